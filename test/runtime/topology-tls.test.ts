import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { generate, pythonEnvs, REPO, removeAfterSuccess, runtimeOf, sleep } from '../helpers.js';
import { RedisCluster, RedisSentinels, TopologyCerts } from '../topology.js';

// TLS in cluster and Sentinel mode (docs/modules/redis/topologies.md): every data node listens on TLS only (plaintext
// port 0) with a certificate signed by a CA made here with openssl (SAN localhost + 127.0.0.1), and speaks TLS to
// the other nodes (cluster bus, replication); the sentinels reach the master over TLS and listen in plaintext, as
// both runtimes speak to them. Both runtimes, each mode: calls across slots and health with use_tls, a client
// trusting another CA refused (fails open, health 503 naming the TLS failure), and, once the nodes present a
// certificate naming localhost only, REDIS_TLS_CHECK_HOSTNAME (refused by default, connects when turned off).
// Python: the async and sync clients on the floor (Debian, redis-py 4.3.4) and the latest stack, the hostname check
// on redis-py 5.0 too (pytest files test/runtime/python_topology/test_topology_tls*.py).
const STACKS = [
  { name: 'latest + hiredis', env: 'latest' as string | null },
  { name: 'floor (Debian, redis-py 4.3.4)', env: null },
];
// the hostname check also on redis-py 5.0, whose sync cluster client drops ssl_check_hostname as 4.3's does
const HOSTNAME_STACKS = [...STACKS, { name: 'redis-py 5.0', env: 'redis5' }];
const quiet = { warn: () => undefined };

let certs: TopologyCerts;
let fastify: string;
let python: string;
let runtime: any;
let pythons: Record<string, string> = {};
let seq = 0;
const py = (env: string | null) => (env ? pythons[env]! : '/usr/bin/python3');

beforeAll(async () => {
  certs = new TopologyCerts();
  pythons = await pythonEnvs(['latest', 'redis5']);
  fastify = await generate('fastify', 'topology-tls');
  python = await generate('fastapi', 'topology-tls-python');
  runtime = runtimeOf(fastify);
}, 600_000);
removeAfterSuccess(() => [fastify, python]);
afterAll(() => certs?.remove());

async function pytest(python3: string, file: string, env: Record<string, string>) {
  const r = await execa(
    python3,
    ['-m', 'pytest', `test/runtime/python_topology/${file}`, '-q', '-s', '-p', 'no:cacheprovider', '-W', 'ignore::DeprecationWarning'],
    {
      cwd: REPO,
      env: { GEN_PROJECT_DIR: python, PYTHONDONTWRITEBYTECODE: '1', ...env },
      reject: false,
      timeout: 300_000,
      all: true,
    },
  );
  const out = String(r.all);
  expect(r.exitCode, out).toBe(0);
  expect(out).toMatch(/\d+ passed/);
  expect(out).not.toMatch(/skipped|xfail|deselected/);
}

/** A Node cache on these settings, with short timeouts; `env` last. */
function nodeCache(base: Record<string, string>, env: Record<string, string> = {}) {
  const settings = runtime.settingsFromEnv({
    ...base,
    REDIS_KEY_PREFIX: `gentest:tls${++seq}:`,
    REDIS_SOCKET_TIMEOUT: '0.5',
    REDIS_CONNECT_TIMEOUT: '0.5',
    REDIS_BREAKER_RESET_TIMEOUT: '0.5',
    ...env,
  });
  return new runtime.RedisCache(settings, { logger: quiet });
}

/** The Node checks on a TLS deployment: calls across slots, stored format, deletePattern and health. */
async function nodeRoundTrip(base: Record<string, string>, mode: 'cluster' | 'sentinel', mastersOf?: (keys: string[]) => Set<number>) {
  const cache = nodeCache(base);
  expect(cache.settings.useTls).toBe(true);
  expect(await cache.set('user:1', { name: 'Ada' })).toBe(true);
  expect(await cache.get('user:1')).toEqual({ name: 'Ada' });
  expect(await cache.client.get(`${cache.settings.keyPrefix}user:1`)).toBe('{"name":"Ada"}');
  const entries = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`k${i}`, { i }]));
  if (mastersOf) expect(mastersOf(Object.keys(entries).map((k) => cache.settings.keyPrefix + k)).size).toBe(3);
  expect(await cache.setMany(entries, 60)).toBe(true);
  const order = Object.keys(entries).reverse();
  const got = await cache.getMany([...order, 'absent']);
  expect(Object.keys(got)).toEqual(order);
  expect(got).toEqual(entries);
  expect(await cache.incr('n', 5)).toBe(5);
  expect(await cache.deletePattern('k*')).toBe(60); // SCAN + UNLINK on every master, over TLS
  expect(await cache.delete('user:1', 'n', 'absent')).toBe(2);
  const h = await cache.healthCheck();
  expect(h).toMatchObject({ status: 'ok', mode, connection: { mode, use_tls: true } });
  if (mode === 'cluster') expect(h.cluster).toMatchObject({ state: 'ok', masters_reachable: 3, masters_total: 3, slots_covered: 16384 });
  else expect(h.sentinel).toMatchObject({ sentinels_reachable: 3, sentinels_total: 3 });
  expect(cache.stats()).toMatchObject({ mode, errors: 0, fallbacks: 0 });
  await cache.close();
}

/** A Node cache trusting another CA: every call falls back (nothing thrown), health 503 names the TLS failure. */
async function nodeWrongCa(base: Record<string, string>, mode: 'cluster' | 'sentinel') {
  const cache = nodeCache(base, { REDIS_TLS_CA_FILE: certs.otherCa, REDIS_RETRIES: '0' });
  expect(await cache.get('k', 'fallback')).toBe('fallback');
  expect(await cache.set('k', 1)).toBe(false);
  expect(await cache.getMany(['a', 'b'])).toEqual({});
  await sleep(600); // past the breaker: a real probe
  const h = await cache.healthCheck();
  expect(h).toMatchObject({ status: 'fail', mode });
  // cluster: the node that refused ("127.0.0.1:<port>: ..."); Sentinel: the master, named as the sentinels give it
  expect(h.detail).toMatch(/TLS handshake with .*failed: (127\.0\.0\.1:\d+: )?self-signed certificate in certificate chain/);
  expect(cache.stats().errors).toBeGreaterThan(0);
  await cache.close();
}

/** Nodes presenting a certificate naming localhost only: refused at 127.0.0.1 by default, connects with the check off. */
async function nodeHostname(base: Record<string, string>, mode: 'cluster' | 'sentinel') {
  const checked = nodeCache(base, { REDIS_RETRIES: '0' });
  expect(await checked.set('k', 1)).toBe(false);
  await sleep(600);
  const h = await checked.healthCheck();
  expect(h.status).toBe('fail');
  expect(h.detail).toMatch(
    /TLS handshake with .*failed: (127\.0\.0\.1:\d+: )?Hostname\/IP does not match certificate's altnames: IP: 127\.0\.0\.1/,
  );
  await checked.close();
  const unchecked = nodeCache(base, { REDIS_TLS_CHECK_HOSTNAME: 'false' });
  expect(await unchecked.setMany({ a: 1, b: 2, c: 3 })).toBe(true);
  expect(await unchecked.getMany(['a', 'c'])).toEqual({ a: 1, c: 3 });
  expect(await unchecked.healthCheck()).toMatchObject({ status: 'ok', mode, connection: { use_tls: true } });
  await unchecked.close();
}

describe('Redis Cluster on TLS (3 masters + 3 replicas; client port, bus and replication on TLS)', () => {
  let cluster: RedisCluster;
  const env = () => ({ REDIS_CLUSTER_NODES: cluster.seeds, REDIS_TLS: 'true', REDIS_TLS_CA_FILE: certs.ca });
  const pyEnv = () => ({
    GEN_TOPO_MODE: 'cluster',
    GEN_TOPO_NODES: cluster.seeds,
    GEN_TOPO_TLS_CA: certs.ca,
    GEN_TOPO_TLS_OTHER_CA: certs.otherCa,
  });
  beforeAll(async () => {
    cluster = await new RedisCluster({ tls: certs }).start();
  }, 120_000);
  afterAll(async () => cluster?.stop());

  test('the nodes refuse plaintext (the set-up really is TLS only)', async () => {
    const cache = nodeCache({ REDIS_CLUSTER_NODES: cluster.seeds }, { REDIS_RETRIES: '0' });
    expect(await cache.set('k', 1)).toBe(false);
    await cache.close();
  });

  test('Node: calls across slots on every master, stored format, deletePattern, health ok with use_tls', async () => {
    await nodeRoundTrip(env(), 'cluster', (keys) => new Set(keys.map((k) => cluster.masterFor(k).port)));
  });

  test('Node: a client trusting another CA fails open; health 503 names the TLS failure', async () => {
    await nodeWrongCa(env(), 'cluster');
  });

  test.each(STACKS)(
    'Python ($name): async + sync across slots, health with use_tls; another CA refused, fails open',
    async (stack) => {
      await pytest(py(stack.env), 'test_topology_tls.py', pyEnv());
    },
    300_000,
  );

  test('REDIS_TLS_CHECK_HOSTNAME: nodes presenting a certificate for localhost only are refused at 127.0.0.1 unless it is false (Node, Python 4.3, 5.0, latest)', async () => {
    certs.serve(
      'localhost',
      cluster.nodes.map((n) => n.port),
      cluster.access,
    );
    await nodeHostname(env(), 'cluster');
    for (const stack of HOSTNAME_STACKS) await pytest(py(stack.env), 'test_topology_tls_hostname.py', pyEnv());
  }, 300_000);
});

describe('Sentinel with the data nodes on TLS (1 master + 1 replica on TLS, 3 plaintext sentinels)', () => {
  let s: RedisSentinels;
  // the URL form: rediss:// means TLS; its host and port are ignored in Sentinel mode
  const env = () => ({
    REDIS_SENTINELS: s.seeds,
    REDIS_SENTINEL_MASTER: s.masterName,
    REDIS_URL: 'rediss://ignored.invalid:1/0',
    REDIS_TLS_CA_FILE: certs.ca,
  });
  const pyEnv = () => ({
    GEN_TOPO_MODE: 'sentinel',
    GEN_TOPO_SENTINELS: s.seeds,
    GEN_TOPO_MASTER: s.masterName,
    GEN_TOPO_TLS_CA: certs.ca,
    GEN_TOPO_TLS_OTHER_CA: certs.otherCa,
  });
  beforeAll(async () => {
    s = await new RedisSentinels({ tls: certs }).start();
  }, 120_000);
  afterAll(async () => s?.stop());

  test('the master refuses plaintext (the set-up really is TLS only)', async () => {
    const cache = nodeCache({ REDIS_SENTINELS: s.seeds, REDIS_SENTINEL_MASTER: s.masterName }, { REDIS_RETRIES: '0' });
    expect(await cache.set('k', 1)).toBe(false);
    await cache.close();
  });

  test('Node: the master the sentinels name reached over TLS, stored format, deletePattern, health ok with use_tls', async () => {
    await nodeRoundTrip(env(), 'sentinel');
  });

  test('Node: a client trusting another CA fails open; health 503 names the TLS failure', async () => {
    await nodeWrongCa(env(), 'sentinel');
  });

  test.each(STACKS)(
    'Python ($name): async + sync through the sentinels, health with use_tls; another CA refused, fails open',
    async (stack) => {
      await pytest(py(stack.env), 'test_topology_tls.py', pyEnv());
    },
    300_000,
  );

  test('REDIS_TLS_CHECK_HOSTNAME: a master presenting a certificate for localhost only is refused at 127.0.0.1 unless it is false (Node, Python 4.3, 5.0, latest)', async () => {
    certs.serve('localhost', [s.master.port, s.replica.port], s.access);
    await nodeHostname(env(), 'sentinel');
    for (const stack of HOSTNAME_STACKS) await pytest(py(stack.env), 'test_topology_tls_hostname.py', pyEnv());
  }, 300_000);
});
