import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { REPO, copyExample, pythonEnvs, runGen } from '../helpers.js';
import { RedisCluster, RedisSentinels, type TopologyAuth } from '../topology.js';

// The Python runtime against a real Redis Cluster (3 masters + 3 replicas) and a real Sentinel set-up (1 master,
// 1 replica, 3 sentinels) from test/topology.ts: the API suite (async + sync) on every Python stack, again as an ACL
// user (and with a sentinel password), health and metrics, the everything-down case, and a failover under load
// through uvicorn. The pytest files are test/runtime/python_topology/ (docs/modules/redis/python.md).
const STACKS = [
  { name: 'latest + hiredis', env: 'latest' as string | null },
  { name: 'floor (Debian, redis-py 4.3.4)', env: null },
  { name: 'redis-py 5.0', env: 'redis5' },
];
const ACL: TopologyAuth = { username: 'cacheuser', password: 'acl-topology-secret' };
const SENTINEL_PASSWORD = 'sentinel-secret';

let project: string;
let failed = false;
let pythons: Record<string, string> = {};
const py = (env: string | null) => (env ? pythons[env]! : '/usr/bin/python3');

beforeAll(async () => {
  pythons = await pythonEnvs(['latest', 'redis5']);
  project = copyExample('fastapi', 'py-topology');
  const r = await runGen(['add', 'module', 'redis', '--project', project, '--yes']);
  expect(r.code, r.stdout + r.stderr).toBe(0);
}, 600_000);

afterAll(() => {
  if (project && !failed) fs.rmSync(project, { recursive: true, force: true });
});

async function pytest(python: string, files: string[], env: Record<string, string>, extra: string[] = []) {
  const r = await execa(
    python,
    [
      '-m',
      'pytest',
      ...files.map((f) => `test/runtime/python_topology/${f}`),
      '-q',
      '-s',
      '-p',
      'no:cacheprovider',
      '-W',
      'ignore::DeprecationWarning',
      ...extra,
    ],
    { cwd: REPO, env: { GEN_PROJECT_DIR: project, PYTHONDONTWRITEBYTECODE: '1', ...env }, reject: false, timeout: 600_000, all: true },
  );
  if (r.exitCode !== 0) failed = true;
  const out = String(r.all);
  for (const line of out.split('\n')) if (line.startsWith('FAILOVER[')) console.log(`${path.basename(python)}: ${line}`);
  return { code: r.exitCode, out };
}

function clusterEnv(c: RedisCluster): Record<string, string> {
  return {
    GEN_TOPO_MODE: 'cluster',
    GEN_TOPO_NODES: c.seeds,
    ...(c.auth.username ? { GEN_TOPO_USER: c.auth.username } : {}),
    ...(c.auth.password ? { GEN_TOPO_PASSWORD: c.auth.password } : {}),
  };
}

function sentinelEnv(s: RedisSentinels): Record<string, string> {
  return {
    GEN_TOPO_MODE: 'sentinel',
    GEN_TOPO_SENTINELS: s.seeds,
    GEN_TOPO_MASTER: s.masterName,
    ...(s.auth.username ? { GEN_TOPO_USER: s.auth.username } : {}),
    ...(s.auth.password ? { GEN_TOPO_PASSWORD: s.auth.password } : {}),
    ...(s.opts.sentinelPassword ? { GEN_TOPO_SENTINEL_PASSWORD: s.opts.sentinelPassword } : {}),
  };
}

function passed(r: { code: number | undefined; out: string }) {
  expect(r.code, r.out).toBe(0);
  expect(r.out).toMatch(/\d+ passed/);
  expect(r.out).not.toMatch(/skipped|xfail|deselected/);
}

test.each(STACKS)(
  'configuration errors of the topology variables ($name)',
  async (stack) => {
    passed(await pytest(py(stack.env), ['test_topology_config.py'], {}));
  },
  120_000,
);

describe('Redis Cluster (3 masters + 3 replicas)', () => {
  let cluster: RedisCluster;
  beforeAll(async () => {
    cluster = await new RedisCluster().start();
  }, 120_000);
  afterAll(async () => cluster?.stop());

  test.each(STACKS)(
    'the API suite, health and metrics ($name)',
    async (stack) => {
      passed(await pytest(py(stack.env), ['test_topology_api.py'], clusterEnv(cluster)));
    },
    600_000,
  );

  test.each(STACKS)(
    'a master stalled mid-batch (SIGSTOP, no failover): get_many/set_many fail open in one read window, exact values after ($name)',
    async (stack) => {
      const r = await pytest(py(stack.env), ['test_topology_stall.py'], {
        ...clusterEnv(cluster),
        GEN_TOPO_STALL_PID: String(cluster.masterFor('k0').pid),
      });
      passed(r);
      expect(r.out).toMatch(/STALL: get_many \d+ ms/);
      console.log(`${stack.name}: ${/STALL: .*/.exec(r.out)?.[0]}`);
    },
    120_000,
  );

  test('every node stopped: calls fail open, health 503 "no cluster node answered" (latest, floor)', async () => {
    await Promise.all(cluster.nodes.map((n) => n.stop()));
    for (const stack of STACKS.slice(0, 2)) passed(await pytest(py(stack.env), ['test_topology_down.py'], clusterEnv(cluster)));
  }, 300_000);
});

describe('Redis Cluster with an ACL user', () => {
  let cluster: RedisCluster;
  beforeAll(async () => {
    cluster = await new RedisCluster({ auth: ACL }).start();
  }, 120_000);
  afterAll(async () => cluster?.stop());

  test.each(STACKS.slice(0, 2))(
    'the API suite as user cacheuser ($name)',
    async (stack) => {
      passed(await pytest(py(stack.env), ['test_topology_api.py'], clusterEnv(cluster)));
    },
    600_000,
  );
});

describe('Sentinel (1 master, 1 replica, 3 sentinels)', () => {
  let s: RedisSentinels;
  beforeAll(async () => {
    s = await new RedisSentinels().start();
  }, 120_000);
  afterAll(async () => s?.stop());

  test.each(STACKS)(
    'the API suite, health and metrics ($name)',
    async (stack) => {
      passed(await pytest(py(stack.env), ['test_topology_api.py'], sentinelEnv(s)));
    },
    600_000,
  );

  test('master and replica stopped: calls fail open, health 503 naming the master (latest, floor)', async () => {
    await Promise.all([s.master.stop(), s.replica.stop()]);
    for (const stack of STACKS.slice(0, 2)) passed(await pytest(py(stack.env), ['test_topology_down.py'], sentinelEnv(s)));
  }, 300_000);
});

describe('Sentinel with an ACL user and a sentinel password', () => {
  let s: RedisSentinels;
  beforeAll(async () => {
    s = await new RedisSentinels({ auth: ACL, sentinelPassword: SENTINEL_PASSWORD }).start();
  }, 120_000);
  afterAll(async () => s?.stop());

  test.each(STACKS.slice(0, 2))(
    'the API suite as user cacheuser ($name)',
    async (stack) => {
      passed(await pytest(py(stack.env), ['test_topology_api.py'], sentinelEnv(s)));
    },
    600_000,
  );
});

describe.each(STACKS.slice(0, 2))('failover under load through uvicorn ($name)', (stack) => {
  const prefix = 'gentopo:failover:';

  test('cluster: SIGKILL the master owning the hot key; 0 non-2xx, hits back within 5 s of the promotion', async () => {
    const cluster = await new RedisCluster().start();
    try {
      const victim = cluster.masterFor(`${prefix}hot`);
      const r = await pytest(py(stack.env), ['test_topology_failover.py'], {
        ...clusterEnv(cluster),
        GEN_TOPO_PREFIX: prefix,
        GEN_TOPO_KILL_PID: String(victim.pid),
        GEN_TOPO_KILL_PORT: String(victim.port),
      });
      passed(r);
    } finally {
      await cluster.stop();
    }
  }, 300_000);

  test('sentinel: SIGKILL the master; 0 non-2xx, hits back within 5 s of the promotion', async () => {
    const s = await new RedisSentinels().start();
    try {
      const victim = s.currentMasterPort() === s.master.port ? s.master : s.replica;
      const r = await pytest(py(stack.env), ['test_topology_failover.py'], {
        ...sentinelEnv(s),
        GEN_TOPO_PREFIX: prefix,
        GEN_TOPO_KILL_PID: String(victim.pid),
        GEN_TOPO_KILL_PORT: String(victim.port),
      });
      passed(r);
    } finally {
      await s.stop();
    }
  }, 300_000);
});
