import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  expectSecondSocketErrorContained,
  generate,
  http,
  removeAfterSuccess,
  requireCjs,
  runtimeOf,
  sleep,
  startApp,
  tsc,
  tscStrictest,
  REDIS_VERSION,
  VECTORS,
  type App,
} from '../helpers.js';
import { RedisCluster, RedisSentinels, cli, replicated, type TopologyAuth } from '../topology.js';
import { crossLanguage } from './cross-language.js';

// The Node runtime core (as gen vendors it) against a real Redis Cluster (3 masters + 3 replicas) and a real
// Sentinel set-up (1 master + 1 replica + 3 sentinels) on loopback: the whole cache API, values shared with the
// Python runtime, health, metrics, configuration errors, failover with fail-open, and a generated Fastify app
// under load while its master dies.
const Redis = requireCjs('ioredis');

let fastify: string;
let nest: string;
let python: string;
let runtime: any;
const quiet = { warn: () => undefined };

beforeAll(async () => {
  fastify = await generate('fastify', 'node-topology');
  nest = await generate('nestjs', 'node-topology-nest');
  python = await generate('fastapi', 'node-topology-python');
  runtime = runtimeOf(fastify);
}, 300_000);
removeAfterSuccess(() => [fastify, nest, python]);

const AUTH: TopologyAuth = { username: 'cacheuser', password: `topo-${process.pid}-${Date.now()}` };
const SENTINEL_PASSWORD = `sentinel-${process.pid}`;
let seq = 0;

type Mode = 'cluster' | 'sentinel';
interface Target {
  mode: Mode;
  env: () => Record<string, string>;
  /** a raw ioredis client (Cluster / Sentinel-aware Redis) for checks */
  admin: () => any;
}

function makeCache(t: Target, env: Record<string, string> = {}) {
  const prefix = `gentest:${t.mode}${++seq}:`;
  const settings = runtime.settingsFromEnv({
    ...t.env(),
    REDIS_KEY_PREFIX: prefix,
    CACHE_TTL: '300',
    REDIS_SOCKET_TIMEOUT: '0.5',
    REDIS_CONNECT_TIMEOUT: '0.5',
    ...env,
  });
  return { cache: new runtime.RedisCache(settings, { logger: quiet }), prefix };
}

/** Every key of the prefix, on every master (cluster) or the master (sentinel). */
async function scanAll(client: any, match: string): Promise<string[]> {
  const nodes = typeof client.nodes === 'function' ? client.nodes('master') : [client];
  const out: string[] = [];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', match, 'COUNT', 1000);
      cursor = next;
      out.push(...keys);
    } while (cursor !== '0');
  }
  return out;
}

/** The cache API suite of test/runtime/node.test.ts, in cluster or Sentinel mode. */
function apiSuite(t: Target) {
  test('cross-language: what the Python runtime writes Node reads, and back (keys, values, TTLs, rate-limit counters)', async () => {
    await crossLanguage(runtime, python, t.env(), `gentest:xlang-${t.mode}${++seq}:`);
  });

  test('get/set/delete/exists/incr/getMany/setMany across slots, caller order kept; caller errors throw, breaker closed', async () => {
    const { cache, prefix } = makeCache(t);
    expect(await cache.get('missing')).toBeNull();
    expect(await cache.get('missing', 'd')).toBe('d');
    expect(await cache.set('user:1', { name: 'Ada', tags: ['a'] })).toBe(true);
    expect(await cache.get('user:1')).toEqual({ name: 'Ada', tags: ['a'] });
    expect(await cache.client.get(`${prefix}user:1`)).toBe('{"name":"Ada","tags":["a"]}');
    expect(await cache.exists('user:1')).toBe(true);
    expect(await cache.exists('user:2')).toBe(false);
    expect(await cache.incr('n')).toBe(1);
    expect(await cache.incr('n', 41)).toBe(42);
    expect(await cache.get('n')).toBe(42);
    expect(await cache.delete('user:1', 'n', 'nope')).toBe(2); // three slots
    expect(await cache.delete()).toBe(0);
    expect(await cache.set('null', null)).toBe(true);
    expect(await cache.get('null', 'd')).toBeNull();
    const entries = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, { i }]));
    if (t.mode === 'cluster') {
      // the 100 keys really live on all three masters
      const slots = new Set(Object.keys(entries).map((k) => runtime.keySlot(prefix + k)));
      expect(slots.size).toBeGreaterThan(50);
    }
    expect(await cache.setMany(entries, 60)).toBe(true);
    expect(await cache.setMany({})).toBe(true);
    expect(await cache.ttl('k99')).toBeGreaterThan(55);
    const order = [...Object.keys(entries)].reverse();
    const got = await cache.getMany([...order, 'absent']);
    expect(got).toEqual(entries); // hits only
    expect(Object.keys(got)).toEqual(order); // in the caller's order
    expect(await cache.getMany([])).toEqual({});
    expect(await cache.delete(...Object.keys(entries))).toBe(100);
    expect(await cache.getMany(Object.keys(entries))).toEqual({});

    await expect(cache.set('u', undefined)).rejects.toThrow(TypeError);
    await expect(cache.get('')).rejects.toThrow(TypeError);
    await expect(cache.incr('n', 1.5)).rejects.toThrow(TypeError);
    await cache.client.lpush(`${prefix}list`, 'x');
    await expect(cache.incr('list')).rejects.toThrow(/WRONGTYPE/);
    await expect(cache.get('list')).rejects.toThrow(/WRONGTYPE/);
    expect(await cache.getMany(['list', 'k1', 'null'])).toEqual({ null: null }); // as one MGET: a list is a miss
    expect(cache.breaker.state).toBe('closed');
    const s = cache.stats();
    expect(s.mode).toBe(t.mode);
    expect(s.errors).toBe(0);
    expect(s.fallbacks).toBe(0);
    await cache.close();
  });

  test('TTL semantics: default, 0 = no expiry, fractions in ms, negative is an error; ttl()/expire()', async () => {
    const { cache, prefix } = makeCache(t);
    await cache.set('default', 1);
    expect(await cache.ttl('default')).toBeGreaterThan(295);
    await cache.set('forever', 1, 0);
    expect(await cache.ttl('forever')).toBe(-1);
    await cache.set('frac', 1, 1.5);
    const pttl = await cache.client.pttl(`${prefix}frac`);
    expect(pttl).toBeGreaterThan(1000);
    expect(pttl).toBeLessThanOrEqual(1500);
    await cache.set('short', 1, 0.15);
    await sleep(300);
    expect(await cache.get('short')).toBeNull();
    await expect(cache.set('neg', 1, -1)).rejects.toThrow(RangeError);
    await expect(cache.setMany({ a: 1, b: 2 }, -1)).rejects.toThrow(RangeError);
    expect(await cache.expire('forever', 30)).toBe(true);
    expect(await cache.ttl('forever')).toBeGreaterThan(25);
    expect(await cache.expire('forever', 0)).toBe(true);
    expect(await cache.ttl('forever')).toBe(-1);
    expect(await cache.expire('never', 30)).toBe(false);
    await cache.close();
  });

  test('a socket error after the first one never escapes to the app (ioredis listens once per stream): the cache reconnects', async () => {
    const { cache, prefix } = makeCache(t);
    expect(await cache.set('k', 'v')).toBe(true);
    // the connection that serves 'k': the master owning its slot (cluster), the master (Sentinel)
    const owner: string | null = t.mode === 'cluster' ? cache.client.slots[runtime.keySlot(`${prefix}k`)][0] : null;
    const conn = owner ? cache.client.nodes('master').find((n: any) => `${n.options.host}:${n.options.port}` === owner) : cache.client;
    await expectSecondSocketErrorContained(cache, conn, 'k', 'v');
    await cache.close();
  });

  test('shared vectors: exact stored bytes and round trip (the key format and value format do not change)', async () => {
    const { cache, prefix } = makeCache(t);
    for (const v of VECTORS.vectors) {
      expect(await cache.set(v.key, v.value)).toBe(true);
      expect(await cache.client.get(prefix + v.key), v.name).toBe(v.stored);
      expect(await cache.get(v.key), v.name).toEqual(v.value);
    }
    for (const v of VECTORS.raw) {
      await cache.client.set(prefix + v.key, v.stored);
      expect(await cache.get(v.key), v.name).toEqual(v.value);
    }
    await cache.close();
  });

  test('deletePattern over 10k keys (SCAN + UNLINK on every master, summed) leaves foreign keys untouched', async () => {
    const { cache, prefix } = makeCache(t);
    const a = t.admin();
    const foreign = `gentest:foreign${seq}:`;
    for (let i = 0; i < 300; i++) await a.set(`${foreign}session:${i}`, 'x');
    for (let i = 0; i < 10_000; i += 1000) {
      expect(await cache.setMany(Object.fromEntries(Array.from({ length: 1000 }, (_, j) => [`session:${i + j}`, i + j])))).toBe(true);
    }
    await cache.set('user:1', 'keep');
    if (t.mode === 'cluster') {
      const perMaster = await Promise.all(a.nodes('master').map((n: any) => scanAll(n, `${prefix}session:*`)));
      expect(perMaster.filter((keys: string[]) => keys.length > 0)).toHaveLength(3);
    }
    expect(await cache.deletePattern('session:*')).toBe(10_000);
    expect(await cache.deletePattern('session:*')).toBe(0);
    expect(await cache.get('user:1')).toBe('keep');
    expect(await scanAll(a, `${foreign}*`)).toHaveLength(300);
    expect(await scanAll(a, `${prefix}session:*`)).toEqual([]);
    a.disconnect();
    await cache.close();
  }, 90_000);

  test('single-flight getOrSet and the atomic rate limiter (one key each: one slot)', async () => {
    const { cache } = makeCache(t);
    let calls = 0;
    const loader = async () => {
      calls++;
      await sleep(100);
      return { report: 1 };
    };
    const results = await Promise.all(Array.from({ length: 100 }, () => cache.getOrSet('cold', loader, 60)));
    expect(calls).toBe(1);
    expect(results.every((r: any) => r.report === 1)).toBe(true);
    expect(await cache.getOrSet('cold', loader)).toEqual({ report: 1 });
    expect(calls).toBe(1);

    const other = new runtime.RedisCache(cache.settings, { logger: quiet });
    const rl = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? cache : other).rateLimit('login:ada', 10, 30)));
    expect(rl.filter((r: any) => r.allowed)).toHaveLength(10);
    expect(rl.map((r: any) => r.count).sort((x: number, y: number) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    await other.close();
    await cache.close();
  });
}

async function expectFailOpenFast(cache: any, deadlineMs: number) {
  const t0 = performance.now();
  expect(await cache.get('k', 'fallback')).toBe('fallback');
  expect(await cache.set('k', 1)).toBe(false);
  expect(await cache.getMany(['a', 'b', 'c'])).toEqual({});
  expect(await cache.getOrSet('g', () => 'loaded')).toBe('loaded');
  expect(await cache.rateLimit('r', 1, 1)).toMatchObject({ allowed: true });
  expect(performance.now() - t0).toBeLessThan(5 * deadlineMs + 500);
}

// ---------------------------------------------------------------------------------------------- cluster

describe('Redis Cluster (3 masters + 3 replicas, ACL user)', () => {
  let cluster: RedisCluster;
  const target: Target = {
    mode: 'cluster',
    env: () => ({ REDIS_CLUSTER_NODES: cluster.seeds, REDIS_USERNAME: AUTH.username!, REDIS_PASSWORD: AUTH.password! }),
    admin: () =>
      new Redis.Cluster(
        cluster.alive.map((n) => ({ host: '127.0.0.1', port: n.port })),
        { redisOptions: { username: AUTH.username, password: AUTH.password } },
      ).on('error', () => undefined),
  };
  beforeAll(async () => {
    cluster = await new RedisCluster({ auth: AUTH }).start();
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  apiSuite(target);

  test('health: mode, connection, cluster section (every master probed), Prometheus gauges; no secret anywhere', async () => {
    const { cache } = makeCache(target);
    await cache.get('m');
    const h = await cache.healthCheck();
    expect(h).toMatchObject({
      status: 'ok',
      module: 'redis',
      version: REDIS_VERSION,
      mode: 'cluster',
      connection: { mode: 'cluster', nodes: cluster.seeds.split(','), use_tls: false },
      cluster: { state: 'ok', slots_covered: 16384, slots_total: 16384, masters_reachable: 3, masters_total: 3 },
      breaker: { state: 'closed', failures: 0 },
    });
    expect(Object.keys(h)).toEqual([
      'status',
      'module',
      'version',
      'mode',
      'latency',
      'pool',
      'connection',
      'cluster',
      'breaker',
      'checked_at',
    ]);
    expect(h.cluster.masters).toHaveLength(3);
    for (const m of h.cluster.masters) {
      expect(m.address).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(m.ok).toBe(true);
      expect(m.latency_ms).toBeGreaterThanOrEqual(0);
    }
    expect(JSON.stringify(h)).not.toContain(AUTH.password);
    expect(JSON.stringify(cache.metadata())).not.toContain(AUTH.password);
    expect(cache.metadata()).toMatchObject({ url: `redis+cluster://cacheuser:***@${cluster.seeds}`, connection: { mode: 'cluster' } });
    const text = cache.renderPrometheus();
    expect(text).toContain('rapidkit_redis_mode{mode="cluster"} 1');
    expect(text).toContain('rapidkit_redis_cluster_masters_reachable 3');
    expect(text).toContain('rapidkit_redis_cluster_masters_total 3');
    expect(text).toContain('rapidkit_redis_cluster_slots_covered 16384');
    expect(text).not.toContain('sentinels_reachable');
    await cache.close();
  });

  test('a master SIGKILLed: calls fail open within the deadline, health 503 names it, hits resume within 5 s of the promotion', async () => {
    const { cache, prefix } = makeCache(target, { REDIS_BREAKER_THRESHOLD: '3', REDIS_BREAKER_RESET_TIMEOUT: '0.5' });
    expect(await cache.set('hot', 'v', 0)).toBe(true);
    const victim = cluster.masterFor(`${prefix}hot`);
    await replicated(victim.port, cluster.access); // the replica must hold the key before its master dies
    cluster.kill(victim);
    const killed = Date.now();
    let sawFail: any = null;
    while (Date.now() - killed < 1500) {
      const t0 = performance.now();
      expect(await cache.get('hot', 'fallback')).toBeDefined();
      expect(performance.now() - t0).toBeLessThan(cache.deadlineMs + 200);
      const h = await cache.healthCheck();
      expect(performance.now() - t0).toBeLessThan(cache.deadlineMs + 700);
      if (h.status === 'fail') sawFail = h;
      await sleep(50);
    }
    expect(sawFail, 'health reported the dead master').not.toBeNull();
    expect(sawFail.detail).toMatch(new RegExp(`${victim.port}|CLUSTERDOWN|cluster_state|circuit breaker`));
    await cluster.waitOk();
    const promoted = Date.now();
    while (Date.now() - promoted < 5000 && (await cache.get('hot')) !== 'v') await sleep(50);
    const resumed = Date.now() - promoted;
    console.log(`cluster core failover: killed -> promotion observed ${promoted - killed} ms, hits resumed ${resumed} ms after promotion`);
    expect(resumed).toBeLessThan(5000);
    const h = await cache.healthCheck();
    expect(h.status).toBe('ok');
    expect(h.cluster.masters_reachable).toBe(3);
    const dead = h.cluster.masters.find((m: any) => m.address === `127.0.0.1:${victim.port}`);
    expect(dead).toMatchObject({ ok: false, latency_ms: null }); // still listed, failed
    await cache.close();
  }, 60_000);

  test('CLUSTERDOWN (a master and its replica dead): every call fails open within the deadline, health 503 says so', async () => {
    const { cache } = makeCache(target, { REDIS_BREAKER_RESET_TIMEOUT: '0.5' });
    expect(await cache.set('x', 1)).toBe(true);
    // a master whose replica is still running, and that replica
    const masters = cluster.slotOwners().map((o) => o.port);
    const port = masters[0]!;
    const master = cluster.nodes.find((n) => n.port === port)!;
    const replicaPort = Number(
      /slave[^\n]*?port=(\d+)/.exec(
        requireCjs('node:child_process').execFileSync(
          'redis-cli',
          ['-p', String(port), '--user', AUTH.username, '--pass', AUTH.password, '--no-auth-warning', 'info', 'replication'],
          { encoding: 'utf8' },
        ),
      )?.[1],
    );
    const replica = cluster.nodes.find((n) => n.port === replicaPort);
    cluster.kill(master);
    if (replica) cluster.kill(replica);
    // cluster_state turns fail once the node timeout (2 s) has passed
    const t0 = Date.now();
    let h: any;
    do {
      await sleep(250);
      h = await cache.healthCheck();
    } while (Date.now() - t0 < 15_000 && !(h.status === 'fail' && h.cluster?.state === 'fail'));
    expect(h.status).toBe('fail');
    expect(h.detail).toMatch(/cluster_state:fail|CLUSTERDOWN/);
    expect(h.cluster.state).toBe('fail');
    await expectFailOpenFast(cache, cache.deadlineMs);
    expect(cache.stats().errors).toBeGreaterThan(0);
    await cache.close();
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------- sentinel

describe('Redis Sentinel (1 master + 1 replica + 3 sentinels, ACL user, sentinel password)', () => {
  let sentinels: RedisSentinels;
  const target: Target = {
    mode: 'sentinel',
    env: () => ({
      REDIS_SENTINELS: sentinels.seeds,
      REDIS_SENTINEL_MASTER: sentinels.masterName,
      REDIS_SENTINEL_PASSWORD: SENTINEL_PASSWORD,
      REDIS_USERNAME: AUTH.username!,
      REDIS_PASSWORD: AUTH.password!,
    }),
    admin: () =>
      new Redis({
        sentinels: sentinels.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })),
        name: sentinels.masterName,
        sentinelPassword: SENTINEL_PASSWORD,
        username: AUTH.username,
        password: AUTH.password,
      }).on('error', () => undefined),
  };
  beforeAll(async () => {
    sentinels = await new RedisSentinels({ auth: AUTH, sentinelPassword: SENTINEL_PASSWORD }).start();
  }, 120_000);
  afterAll(async () => {
    await sentinels?.stop();
  });

  apiSuite(target);

  test('health: mode, connection, sentinel section, Prometheus gauge; no secret anywhere', async () => {
    const { cache } = makeCache(target);
    const h = await cache.healthCheck();
    expect(h).toMatchObject({
      status: 'ok',
      mode: 'sentinel',
      connection: { mode: 'sentinel', sentinels: sentinels.seeds.split(','), master_name: 'mymaster', db: 0, use_tls: false },
      sentinel: {
        master_name: 'mymaster',
        master: `127.0.0.1:${sentinels.currentMasterPort()}`,
        sentinels_reachable: 3,
        sentinels_total: 3,
      },
    });
    expect(Object.keys(h)).toEqual([
      'status',
      'module',
      'version',
      'mode',
      'latency',
      'pool',
      'connection',
      'sentinel',
      'breaker',
      'checked_at',
    ]);
    for (const secret of [AUTH.password!, SENTINEL_PASSWORD]) {
      expect(JSON.stringify(h)).not.toContain(secret);
      expect(JSON.stringify(cache.metadata())).not.toContain(secret);
    }
    const text = cache.renderPrometheus();
    expect(text).toContain('rapidkit_redis_mode{mode="sentinel"} 1');
    expect(text).toContain('rapidkit_redis_sentinels_reachable 3');
    expect(text).not.toContain('cluster_masters');
    await cache.close();
  });

  test('a clean failover (SENTINEL FAILOVER): no exception while the master is demoted (writes wait or fall back), the client follows the new one', async () => {
    const { cache } = makeCache(target);
    expect(await cache.set('k', 0, 0)).toBe(true);
    const old = sentinels.currentMasterPort();
    cli(sentinels.sentinels[0]!.port, ['sentinel', 'failover', sentinels.masterName], { password: SENTINEL_PASSWORD });
    const started = Date.now();
    let writes = 0;
    let refused = 0;
    let moved = 0;
    while (Date.now() - started < 15_000) {
      const t0 = performance.now();
      const ok = await cache.set('k', ++writes, 0); // never throws: READONLY from the demoted master falls back
      expect(performance.now() - t0).toBeLessThan(cache.deadlineMs + 200);
      if (!ok) refused++;
      moved = sentinels.currentMasterPort();
      if (moved !== old && ok && (await cache.get('k')) === writes) break;
      await sleep(20);
    }
    console.log(
      `sentinel clean failover: ${refused} of ${writes} writes fell back; writes served by the new master after ${Date.now() - started} ms`,
    );
    expect(moved).not.toBe(old);
    expect(await cache.set('after', 1)).toBe(true);
    expect(cache.stats().errors).toBe(refused);
    await cache.close();
    // the next test kills the new master: wait until the demoted one has synced as its replica and the sentinels know it
    const deadline = Date.now() + 20_000;
    while (
      Date.now() < deadline &&
      !(
        /master_link_status:up/.test(cli(old, ['info', 'replication'], AUTH)) &&
        /num-slaves\n1/.test(
          cli(sentinels.sentinels[0]!.port, ['sentinel', 'master', sentinels.masterName], { password: SENTINEL_PASSWORD }),
        )
      )
    )
      await sleep(200);
  }, 60_000);

  test('the master SIGKILLed: calls fail open within the deadline, health 503, the new master is followed without restart', async () => {
    const { cache } = makeCache(target, { REDIS_BREAKER_THRESHOLD: '3', REDIS_BREAKER_RESET_TIMEOUT: '0.5' });
    expect(await cache.set('hot', 'v', 0)).toBe(true);
    const old = sentinels.currentMasterPort();
    await replicated(old, sentinels.access); // the replica must hold the key before its master dies
    const failover = sentinels.failover();
    const killed = Date.now();
    let sawFail: any = null;
    while (Date.now() - killed < 800) {
      const t0 = performance.now();
      expect(await cache.get('hot', 'fallback')).toBeDefined();
      expect(performance.now() - t0).toBeLessThan(cache.deadlineMs + 200);
      const h = await cache.healthCheck();
      if (h.status === 'fail') sawFail = h;
      await sleep(50);
    }
    expect(sawFail).not.toBeNull();
    expect(sawFail.detail).toMatch(/refused|not connected|circuit breaker|closed|ECONN/i);
    const now = await failover;
    const promoted = Date.now();
    expect(now).not.toBe(old);
    while (Date.now() - promoted < 5000 && (await cache.get('hot')) !== 'v') await sleep(50);
    const resumed = Date.now() - promoted;
    console.log(`sentinel core failover: killed -> promotion observed ${promoted - killed} ms, hits resumed ${resumed} ms after promotion`);
    expect(resumed).toBeLessThan(5000);
    expect(await cache.set('after', 1)).toBe(true);
    const h = await cache.healthCheck();
    expect(h.status).toBe('ok');
    expect(h.sentinel.master).toBe(`127.0.0.1:${now}`);
    await cache.close();
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------- configuration

describe('configuration errors name the variable and the remedy', () => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [
      { REDIS_CLUSTER_NODES: '127.0.0.1:7000', REDIS_SENTINELS: '127.0.0.1:26379', REDIS_SENTINEL_MASTER: 'm' },
      /REDIS_CLUSTER_NODES and REDIS_SENTINELS are both set: a deployment is either a cluster or a Sentinel set-up; unset one/,
    ],
    [{ REDIS_SENTINELS: '127.0.0.1:26379' }, /REDIS_SENTINELS is set without REDIS_SENTINEL_MASTER/],
    [{ REDIS_SENTINEL_MASTER: 'mymaster' }, /REDIS_SENTINEL_MASTER is set without REDIS_SENTINELS/],
    [{ REDIS_CLUSTER_NODES: '127.0.0.1:7000,cache-2' }, /REDIS_CLUSTER_NODES: 'cache-2' is not a host:port entry/],
    [{ REDIS_CLUSTER_NODES: '127.0.0.1:99999' }, /REDIS_CLUSTER_NODES: '127.0.0.1:99999' is not a host:port entry/],
    [{ REDIS_CLUSTER_NODES: '127.0.0.1:7000,,127.0.0.1:7001' }, /REDIS_CLUSTER_NODES: empty entry/],
    [{ REDIS_SENTINELS: 'a b:1', REDIS_SENTINEL_MASTER: 'm' }, /REDIS_SENTINELS: 'a b:1' is not a host:port entry/],
    [{ REDIS_CLUSTER_NODES: '127.0.0.1:7000', REDIS_DB: '3' }, /REDIS_DB: Redis Cluster has only database 0, got '3'/],
  ];

  test.each(cases)('%j', (env, message) => {
    expect(() => runtime.settingsFromEnv(env)).toThrow(message);
    try {
      runtime.settingsFromEnv(env);
    } catch (err: any) {
      expect(err.name).toBe('ConfigError');
    }
    // NestJS: the Joi schema of ConfigModule refuses the same environment at start-up
    const nestRuntime = runtimeOf(nest, 'nestjs');
    const { error } = nestRuntime.redisValidationSchema.validate(env);
    expect(error?.message ?? '').toMatch(message);
  });

  test('valid topologies parse; IPv6 in brackets; the URL host is ignored, its credentials are kept; Joi accepts them', () => {
    const c = runtime.settingsFromEnv({
      REDIS_CLUSTER_NODES: ' 10.0.0.1:7000, [::1]:7001 ,cache-3:7002',
      REDIS_URL: 'rediss://u:pw@ignored:1/0',
    });
    expect(c).toMatchObject({
      clusterNodes: ['10.0.0.1:7000', '[::1]:7001', 'cache-3:7002'],
      username: 'u',
      password: 'pw',
      useTls: true,
      db: 0,
    });
    expect(runtime.modeOf(c)).toBe('cluster');
    expect(runtime.maskedUrl(c)).toBe('rediss+cluster://u:***@10.0.0.1:7000,[::1]:7001,cache-3:7002');
    const s = runtime.settingsFromEnv({
      REDIS_SENTINELS: 's1:26379,s2:26379',
      REDIS_SENTINEL_MASTER: 'mymaster',
      REDIS_DB: '2',
      REDIS_SENTINEL_PASSWORD: 'sp',
    });
    expect(s).toMatchObject({ sentinels: ['s1:26379', 's2:26379'], sentinelMaster: 'mymaster', db: 2, sentinelPassword: 'sp' });
    expect(runtime.modeOf(s)).toBe('sentinel');
    expect(JSON.stringify(runtime.getRedisMetadata(s))).not.toContain('"sp"');
    expect(runtime.modeOf(runtime.settingsFromEnv({}))).toBe('standalone');
    expect(runtime.settingsFromEnv({ REDIS_CLUSTER_NODES: '', REDIS_SENTINELS: ' ' }).clusterNodes).toEqual([]); // empty = unset
    const nestRuntime = runtimeOf(nest, 'nestjs');
    expect(nestRuntime.redisValidationSchema.validate({ REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_MASTER: 'm' }).error).toBeUndefined();
    // settings given in code are checked by the constructor
    expect(() => new runtime.RedisCache({ ...runtime.settingsFromEnv({}), clusterNodes: ['a:1'], db: 2 }, { logger: quiet })).toThrow(
      /only database 0/,
    );
    expect(() => new runtime.RedisCache({ ...runtime.settingsFromEnv({}), sentinels: ['a:1'] }, { logger: quiet })).toThrow(
      /sentinelMaster/,
    );
  });

  test('the generated NestJS and Fastify projects compile under the strictest settings', () => {
    tscStrictest(fastify);
    tscStrictest(nest);
  }, 120_000);
});

// ---------------------------------------------------------------------------------------------- failover under load

interface LoadResult {
  ok: number;
  bad: string[];
  hitsResumedMs: number;
  promotedAfterMs: number;
}

/**
 * 20 concurrent request loops on GET /products/1 (getOrSet on one hot key) for `ms`; at 5 s `kill()` runs and
 * resolves once the promotion is observed; /stats is polled every 50 ms to see when cache hits resume.
 */
async function underLoad(app: App, ms: number, kill: () => Promise<number>): Promise<LoadResult> {
  const base = `http://127.0.0.1:${app.port}`;
  const end = Date.now() + ms;
  let ok = 0;
  const bad: string[] = [];
  let killedAt = 0;
  let promotedAt = 0;
  const hitsLog: Array<[number, number]> = [];
  const loops = Array.from({ length: 20 }, async () => {
    while (Date.now() < end) {
      try {
        const r = await fetch(`${base}/products/1`, { signal: AbortSignal.timeout(5000) });
        const body = await r.text();
        if (r.status === 200 && JSON.parse(body).id === 1) ok++;
        else bad.push(`${r.status} ${body.slice(0, 200)}`);
      } catch (err) {
        bad.push(String(err));
      }
    }
  });
  const monitor = (async () => {
    while (Date.now() < end) {
      try {
        const s = await (await fetch(`${base}/stats`, { signal: AbortSignal.timeout(2000) })).json();
        hitsLog.push([Date.now(), s.cache.hits]);
      } catch {
        /* the loops report errors */
      }
      await sleep(50);
    }
  })();
  const killer = (async () => {
    await sleep(5000);
    killedAt = Date.now();
    await kill();
    promotedAt = Date.now();
  })();
  await Promise.all([...loops, monitor, killer]);
  // hits at the promotion, then the first sample after it with more hits
  const before = [...hitsLog].reverse().find(([t]) => t <= promotedAt)?.[1] ?? 0;
  const resumed = hitsLog.find(([t, h]) => t > promotedAt && h > before);
  return { ok, bad, hitsResumedMs: resumed ? resumed[0] - promotedAt : Infinity, promotedAfterMs: promotedAt - killedAt };
}

describe('failover under load through a generated Fastify app (20 request loops, 22 s)', () => {
  beforeAll(() => {
    tsc(fastify);
  }, 120_000);

  test('cluster: SIGKILL the master of the hot key: 0 non-2xx, 0 errors in the app, hits resume within 5 s of the promotion', async () => {
    const cluster = await new RedisCluster().start();
    const prefix = 'gentest:load-cluster:';
    const app = await startApp(fastify, path.join('dist', 'server.js'), {
      REDIS_CLUSTER_NODES: cluster.seeds,
      REDIS_KEY_PREFIX: prefix,
      REDIS_SOCKET_TIMEOUT: '0.5',
      REDIS_CONNECT_TIMEOUT: '0.5',
    });
    try {
      const victim = cluster.masterFor(`${prefix}product:1`);
      const slot = runtime.keySlot(`${prefix}product:1`);
      const watcher = new Redis({ port: cluster.nodes.find((n) => n !== victim)!.port, host: '127.0.0.1' }).on('error', () => undefined);
      const res = await underLoad(app, 22_000, async () => {
        cluster.kill(victim);
        // promoted: a live master other than the victim serves the slot
        for (;;) {
          const nodes = String(await watcher.cluster('NODES').catch(() => ''));
          const owner = nodes.split('\n').find((l) => {
            const f = l.split(' ');
            return (
              /master/.test(f[2] ?? '') &&
              !/fail/.test(f[2] ?? '') &&
              f.slice(8).some((r) => {
                const [lo, hi] = r.split('-').map(Number);
                return slot >= lo! && slot <= (hi ?? lo!);
              })
            );
          });
          if (owner && !owner.includes(`:${victim.port}@`)) return 0;
          await sleep(50);
        }
      });
      watcher.disconnect();
      console.log(
        `cluster app failover: ${res.ok} requests ok, ${res.bad.length} failed; promotion ${res.promotedAfterMs} ms after the kill; hits resumed ${res.hitsResumedMs} ms after the promotion`,
      );
      expect(res.bad).toEqual([]);
      expect(res.ok).toBeGreaterThan(1000);
      expect(res.hitsResumedMs).toBeLessThanOrEqual(5000);
      const health = await http(app.port, '/api/health/module/redis');
      expect(health.status).toBe(200);
      expect(app.log()).not.toMatch(/"level":50|Unhandled|TypeError|statusCode":5/);
    } finally {
      await app.stop();
      await cluster.stop();
    }
  }, 120_000);

  test('sentinel: SIGKILL the master: 0 non-2xx, 0 errors in the app, hits resume within 5 s of the promotion', async () => {
    const sentinels = await new RedisSentinels().start();
    const app = await startApp(fastify, path.join('dist', 'server.js'), {
      REDIS_SENTINELS: sentinels.seeds,
      REDIS_SENTINEL_MASTER: sentinels.masterName,
      REDIS_KEY_PREFIX: 'gentest:load-sentinel:',
      REDIS_SOCKET_TIMEOUT: '0.5',
      REDIS_CONNECT_TIMEOUT: '0.5',
    });
    try {
      const res = await underLoad(app, 22_000, () => sentinels.failover());
      console.log(
        `sentinel app failover: ${res.ok} requests ok, ${res.bad.length} failed; promotion ${res.promotedAfterMs} ms after the kill; hits resumed ${res.hitsResumedMs} ms after the promotion`,
      );
      expect(res.bad).toEqual([]);
      expect(res.ok).toBeGreaterThan(1000);
      expect(res.hitsResumedMs).toBeLessThanOrEqual(5000);
      const health = await http(app.port, '/api/health/module/redis');
      expect(health.status).toBe(200);
      expect(app.log()).not.toMatch(/"level":50|Unhandled|TypeError|statusCode":5/);
    } finally {
      await app.stop();
      await sentinels.stop();
    }
  }, 120_000);
});
