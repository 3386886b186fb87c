// gen upgrade module redis on real projects installed at redis 1.0.0 (test/fixtures/redis-1.0.0, made by the gen of
// commit 9df6869: FastAPI, NestJS, Fastify) and at 1.1.0 (test/fixtures/redis-1.1.0, made by the gen of 4ed8f73: the
// frameworks 1.1.0 added, Express and plain Node and Python): the user's edits to a wrapper and a snippet block survive, the pin moves, the old snapshot goes,
// the app builds, starts and answers its health route against a real redis-server, verify-all is green and a
// following add changes nothing. A conflicting edit stops the upgrade; with markers, verify-all is red.
import fs from 'node:fs';
import { execa } from 'execa';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  ENTRY,
  REDIS_SNAP,
  REDIS_VERSION,
  REPO,
  RedisServer,
  http,
  removeAfterSuccess,
  runGen,
  snapshotTree,
  startApp,
  startServer,
  tempDir,
  tsc,
  type App,
} from '../helpers.js';

interface Case {
  fw: 'fastapi' | 'nestjs' | 'fastify' | 'express' | 'node' | 'python';
  /** The version the fixture was installed at (test/fixtures/redis-<from>/<fw>). */
  from: '1.0.0' | '1.1.0';
  wrapper: string;
  /** What the user adds to the wrapper, and where (the end, or after a line gen leaves alone). */
  mine: string;
  after?: string;
  /** The host file of the edited snippet block, the block's end marker, the line the user puts before it. */
  host: string;
  endMarker: string;
  blockLine: string;
  /** The wrapper's pin line at 1.0.0 (gen changes it: an edit there conflicts). */
  pin: string;
}

const CASES: Case[] = [
  {
    fw: 'fastapi',
    from: '1.0.0',
    wrapper: 'app/redis_cache.py',
    mine: '\n\ndef cache_owner() -> str:\n    return "team-shop"\n',
    host: 'main.py',
    endMarker: '# <<< gen:redis:fastapi_wiring <<<',
    blockLine: '# ours: the cache is wired before the routes',
    pin: 'VENDOR_VERSION = "1.0.0"',
  },
  {
    fw: 'nestjs',
    from: '1.0.0',
    wrapper: 'src/redis/index.ts',
    mine: "\nexport const CACHE_OWNER = 'team-shop';\n",
    host: 'src/app.module.ts',
    endMarker: '    // <<< gen:redis:nest_module <<<',
    blockLine: '    // ours: the cache module comes first',
    pin: 'export const VENDOR_VERSION = "1.0.0";',
  },
  {
    fw: 'fastify',
    from: '1.0.0',
    wrapper: 'src/plugins/redis.ts',
    mine: "export const CACHE_OWNER = 'team-shop';\n",
    // not at the end: gen 1.1.0 appends a declaration block there, so an addition at the end meets it (a conflict)
    after: 'export const HEALTH_PATH = runtime.HEALTH_PATH;\n',
    host: 'src/app.ts',
    endMarker: '  // <<< gen:redis:fastify_register <<<',
    blockLine: '  // ours: the cache plugin comes first',
    pin: 'export const VENDOR_VERSION = "1.0.0";',
  },
  {
    fw: 'express',
    from: '1.1.0',
    wrapper: 'src/redis.ts',
    mine: "\nexport const CACHE_OWNER = 'team-shop';\n",
    host: 'src/app.ts',
    endMarker: '  // <<< gen:redis:express_use <<<',
    blockLine: '  // ours: the cache middleware comes first',
    pin: 'export const VENDOR_VERSION = "1.1.0";',
  },
  {
    fw: 'node',
    from: '1.1.0',
    wrapper: 'src/redis.ts',
    mine: "\nexport const CACHE_OWNER = 'team-shop';\n",
    host: 'docker-compose.yml',
    endMarker: '  # <<< gen:redis:compose_service <<<',
    blockLine: '  # ours: pinned by the platform team',
    pin: 'export const VENDOR_VERSION = "1.1.0";',
  },
  {
    fw: 'python',
    from: '1.1.0',
    wrapper: 'redis_cache.py',
    mine: '\n\ndef cache_owner() -> str:\n    return "team-shop"\n',
    host: 'docker-compose.yml',
    endMarker: '  # <<< gen:redis:compose_service <<<',
    blockLine: '  # ours: pinned by the platform team',
    pin: 'VENDOR_VERSION = "1.1.0"',
  },
];

const made: string[] = [];
removeAfterSuccess(() => made);

function installedAt(c: Case, label: string): string {
  const dir = tempDir(label);
  fs.cpSync(path.join(REPO, `test/fixtures/redis-${c.from}`, c.fw), dir, { recursive: true });
  made.push(dir);
  return dir;
}

function editFile(dir: string, rel: string, fn: (t: string) => string): void {
  const p = path.join(dir, rel);
  fs.writeFileSync(p, fn(fs.readFileSync(p, 'utf8')));
}

function userEdits(dir: string, c: Case): void {
  editFile(dir, c.wrapper, (t) => {
    if (!c.after) return t + c.mine;
    expect(t).toContain(c.after);
    return t.replace(c.after, c.after + c.mine);
  });
  editFile(dir, c.host, (t) => {
    expect(t).toContain(c.endMarker);
    return t.replace(c.endMarker, `${c.blockLine}\n${c.endMarker}`);
  });
}

let server: RedisServer;
beforeAll(async () => {
  server = await new RedisServer().start();
});
afterAll(async () => {
  await server?.cleanup();
});

describe.each(CASES)('$fw at redis $from, edited, upgraded', (c) => {
  let dir: string;
  let report: Record<string, any>;

  beforeAll(async () => {
    dir = installedAt(c, `upgrade-${c.fw}`);
    userEdits(dir, c);
    const r = await runGen(['upgrade', 'module', 'redis', '--project', dir, '--yes', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    report = JSON.parse(r.stdout);
  }, 120_000);

  test('the edits are kept, the pin moved, the old snapshot is gone', () => {
    expect(report).toMatchObject({ from: c.from, to: REDIS_VERSION, applied: true });
    expect(report.summary.conflict).toBe(0);
    const wrapper = fs.readFileSync(path.join(dir, c.wrapper), 'utf8');
    expect(c.after ? wrapper.includes(c.after + c.mine) : wrapper.endsWith(c.mine)).toBe(true);
    expect(wrapper).toContain(`"${REDIS_VERSION}"`);
    expect(wrapper).not.toContain(`"${c.from}"`);
    expect(fs.readFileSync(path.join(dir, c.host), 'utf8')).toContain(`${c.blockLine}\n${c.endMarker}`);
    expect(fs.existsSync(path.join(dir, `.rapidkit/vendor/redis/${c.from}`))).toBe(false);
    expect(fs.existsSync(path.join(dir, REDIS_SNAP, '_gen.json'))).toBe(true);
    expect(report.changelog.map((e: { version: string }) => e.version)).toContain(REDIS_VERSION);
  });

  test('verify-all is green, and a following gen add changes nothing', async () => {
    const v = await runGen(['modules', 'verify-all', '--project', dir]);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    const before = snapshotTree(dir);
    const add = await runGen(['add', 'module', 'redis', '--project', dir, '--yes', '--json']);
    expect(add.code, add.stdout + add.stderr).toBe(0);
    expect(JSON.parse(add.stdout).summary).toMatchObject({ create: 0, update: 0, delete: 0, conflict: 0 });
    expect(snapshotTree(dir)).toEqual(before);
  });

  test('the app builds, starts and answers its health route against a real redis-server', async () => {
    const env = { REDIS_URL: server.url };
    if (c.fw === 'python' || c.fw === 'node') {
      // plain projects have no server: their script uses the cache and prints what health says
      if (c.fw === 'node') tsc(dir);
      const run = await execa(c.fw === 'python' ? '/usr/bin/python3' : process.execPath, [c.fw === 'python' ? 'job.py' : 'dist/job.js'], {
        cwd: dir,
        env: { ...env, PYTHONDONTWRITEBYTECODE: '1' },
        reject: false,
        timeout: 60_000,
      });
      expect(run.exitCode, String(run.stdout) + String(run.stderr)).toBe(0);
      const out = JSON.parse(
        String(run.stdout)
          .split('\n')
          .find((l) => l.startsWith('{'))!,
      );
      expect(out.first).toEqual({ customer: 7, total: 42 });
      expect(c.fw === 'python' ? out.health.slice(0, 2) : out.health).toMatchObject(
        c.fw === 'python' ? [200, 'ok'] : { status: 'ok', version: REDIS_VERSION },
      );
      expect(out.metadata).toMatchObject({ version: REDIS_VERSION });
      return;
    }
    let app: App;
    if (c.fw === 'fastapi') {
      app = await startServer('/usr/bin/python3', ['main.py'], { cwd: dir, env: { ...env, PYTHONDONTWRITEBYTECODE: '1' } });
    } else {
      tsc(dir);
      app = await startApp(dir, path.join('dist', ENTRY[c.fw]), env, '/api/health/module/redis');
    }
    try {
      const h = await http(app.port, '/api/health/module/redis');
      expect(h.status, JSON.stringify(h.body)).toBe(200);
      expect(h.body).toMatchObject({ status: 'ok', version: REDIS_VERSION });
      expect((await http(app.port, '/products/7')).body.id).toBe(7);
    } finally {
      await app.stop();
    }
  }, 120_000);
});

describe.each(CASES)('$fw at redis $from: an edit where gen changes the file', (c) => {
  const conflicted = (label: string) => {
    const dir = installedAt(c, label);
    userEdits(dir, c);
    editFile(dir, c.wrapper, (t) => {
      expect(t).toContain(c.pin);
      return t.replace(c.pin, `${c.pin} ${c.wrapper.endsWith('.py') ? '#' : '//'} pinned by us`);
    });
    return dir;
  };

  test('stops the upgrade: exit 1, the hunk reported, nothing written', async () => {
    const dir = conflicted(`upgrade-conflict-${c.fw}`);
    const before = snapshotTree(dir);
    const r = await runGen(['upgrade', 'module', 'redis', '--project', dir, '--yes', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const item = JSON.parse(r.stdout).files.find((f: any) => f.path === c.wrapper);
    expect(item.status).toBe('conflict');
    expect(item.hunks.length).toBeGreaterThan(0);
    expect(snapshotTree(dir)).toEqual(before);
  });

  test('--conflict markers: markers written, verify-all red', async () => {
    const dir = conflicted(`upgrade-markers-${c.fw}`);
    const r = await runGen(['upgrade', 'module', 'redis', '--project', dir, '--yes', '--conflict', 'markers']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const wrapper = fs.readFileSync(path.join(dir, c.wrapper), 'utf8');
    expect(wrapper).toContain('<<<<<<< yours');
    expect(wrapper).toContain(`>>>>>>> gen redis ${REDIS_VERSION}`);
    const v = await runGen(['modules', 'verify-all', '--project', dir]);
    expect(v.code).toBe(1);
    expect(v.stdout).toContain('conflict markers');
  });
});
