import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { addJson, copyExample, listAll, runGen, snapshotTree, tempDir, REDIS_SNAP, REDIS_VERSION, REPO } from '../helpers.js';

const FRAMEWORKS = ['fastapi', 'nestjs', 'fastify', 'express'] as const;
const ALL = 'fastapi, nestjs, fastify, express, python, node';
const SNAP = REDIS_SNAP;

let info: any;
beforeAll(async () => {
  const r = await runGen(['modules', 'info', 'redis', '--json']);
  expect(r.code, r.stderr).toBe(0);
  info = JSON.parse(r.stdout);
});

function read(dir: string, rel: string): string {
  return fs.readFileSync(path.join(dir, rel), 'utf8');
}

describe.each(FRAMEWORKS)('gen add module redis on examples/%s', (fw) => {
  test('creates the snapshot, wrappers and snippets; vendor holds only the framework language', async () => {
    const project = copyExample(fw);
    const r = await addJson(project);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json.framework).toBe(fw); // detected, not passed
    expect(r.json.summary.conflict).toBe(0);
    const byPath = new Map<string, any>(r.json.files.map((f: any) => [f.path, f]));
    const written = r.json.files.filter((f: any) => f.kind === 'wrapper').map((f: any) => f.path);
    expect(written).toContain(info.frameworks[fw].wrappers[0]); // the framework's wrapper; `when: {compat: ...}` ones only on request
    for (const w of written) {
      expect(info.frameworks[fw].wrappers).toContain(w);
      expect(fs.existsSync(path.join(project, w))).toBe(true);
      // the pristine copy for a later 3-way merge is in the snapshot and equals the wrapper
      expect(read(project, `${SNAP}/_pristine/${w}`)).toBe(read(project, w));
    }
    for (const t of ['.env.example', 'docker-compose.yml', 'README.md']) expect(byPath.get(t)?.kind).toBe('snippet');
    const vendored = listAll(project, SNAP).filter((p) => !p.includes('/_pristine/'));
    expect(vendored.length).toBeGreaterThan(3);
    const exts = new Set(vendored.map((p) => path.extname(p)));
    if (fw === 'fastapi') {
      expect([...exts].some((e) => e === '.py')).toBe(true);
      expect(vendored.filter((p) => /\.(ts|js)$/.test(p))).toEqual([]);
    } else {
      expect([...exts].some((e) => e === '.js')).toBe(true);
      expect(vendored.filter((p) => p.endsWith('.py'))).toEqual([]);
    }
    // every file the report calls vendor lives in the snapshot, and every created file exists
    for (const f of r.json.files) {
      if (f.kind === 'vendor') expect(f.path.startsWith(`${SNAP}/`)).toBe(true);
      if (f.action === 'create' || f.action === 'update') expect(fs.existsSync(path.join(project, f.path))).toBe(true);
    }
    const compose = read(project, 'docker-compose.yml');
    expect(compose).toContain('image: redis:7-alpine');
    expect(compose).toContain('allkeys-lru');
    expect(compose).toMatch(/healthcheck:[\s\S]*redis-cli[\s\S]*ping/);
    expect(compose).toContain('redis-data');
    expect(r.json.manual).toEqual([]); // every example has the anchors
  });

  test('a second run writes nothing and reports every file unchanged', async () => {
    const project = copyExample(fw);
    expect((await addJson(project)).code).toBe(0);
    const before = snapshotTree(project);
    await new Promise((r) => setTimeout(r, 20));
    const again = await addJson(project);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    const actions = new Set(again.json.files.map((f: any) => f.action));
    expect([...actions]).toEqual(['unchanged']);
    expect(snapshotTree(project)).toEqual(before);
    const v = await runGen(['modules', 'verify-all', '--project', project]);
    expect(v.code, v.stdout + v.stderr).toBe(0);
  });
});

test('--dry-run and --diff write nothing; --diff prints a unified diff, for all files or one', async () => {
  const project = copyExample('fastapi', 'dry');
  const before = snapshotTree(project);
  const dry = await addJson(project, ['--dry-run']);
  expect(dry.code).toBe(0);
  expect(dry.json.dryRun).toBe(true);
  expect(dry.json.applied).toBe(false);
  expect(dry.json.summary.create).toBeGreaterThan(0);
  expect(snapshotTree(project)).toEqual(before);

  const diff = await runGen(['add', 'module', 'redis', '--project', project, '--diff']);
  expect(diff.code).toBe(0);
  expect(diff.stdout).toContain('--- a/main.py');
  expect(diff.stdout).toContain('+++ b/main.py');
  expect(diff.stdout).toMatch(/^@@ .* @@/m);
  expect(diff.stdout).toContain('+# >>> gen:redis:fastapi_import >>>');
  expect(diff.stdout).toContain('--- /dev/null');

  const one = await runGen(['add', 'module', 'redis', '--project', project, '--diff', 'main.py']);
  expect(one.code).toBe(0);
  expect(one.stdout).toContain('+++ b/main.py');
  expect(one.stdout).not.toContain('.env.example');
  expect(snapshotTree(project)).toEqual(before);

  const bad = await runGen(['add', 'module', 'redis', '--project', project, '--diff', 'nope.txt']);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('gen does not write that file');
});

test('unknown framework: exact message, exit 2, nothing written', async () => {
  const project = copyExample('fastapi', 'unknown-fw');
  const before = snapshotTree(project);
  const r = await runGen(['add', 'module', 'redis', '--project', project, '--framework', 'django']);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(`Unknown framework 'django'. Available frameworks: ${ALL}`);
  expect(snapshotTree(project)).toEqual(before);

  const empty = tempDir('no-fw');
  const r2 = await runGen(['add', 'module', 'redis', '--project', empty]);
  expect(r2.code).toBe(2);
  expect(r2.stderr).toContain(`Available frameworks: ${ALL}`);
  expect(fs.readdirSync(empty)).toEqual([]);
});

describe('overrides', () => {
  const cases: Array<[string, string, (env: string, vendorDiff: string) => void]> = [
    [
      'RAPIDKIT_REDIS_FORCE_URL',
      'redis://cache.example.internal:6390/3',
      (env, v) => {
        expect(env).toContain('REDIS_URL=redis://cache.example.internal:6390/3');
        expect(v).toContain('cache.example.internal');
      },
    ],
    [
      'RAPIDKIT_REDIS_FORCE_HOST',
      'redis.internal',
      (env, v) => {
        expect(env).toContain('REDIS_URL=redis://redis.internal:6379/0');
        expect(v).toContain('redis.internal');
      },
    ],
    [
      'RAPIDKIT_REDIS_FORCE_PORT',
      '6390',
      (env, v) => {
        expect(env).toContain('REDIS_URL=redis://localhost:6390/0');
        expect(v).toContain('6390');
      },
    ],
    [
      'RAPIDKIT_REDIS_FORCE_DB',
      '4',
      (env, v) => {
        expect(env).toContain('REDIS_URL=redis://localhost:6379/4');
        expect(v).toContain('localhost:6379/4');
      },
    ],
    [
      'RAPIDKIT_REDIS_FORCE_TLS',
      'yes',
      (env, v) => {
        expect(env).toContain('REDIS_URL=rediss://localhost:6379/0');
        expect(v).toContain('rediss://');
      },
    ],
    [
      'RAPIDKIT_REDIS_FORCE_PRECONNECT',
      'on',
      (env, v) => {
        expect(env).toContain('REDIS_PRECONNECT=true');
        expect(v).not.toBe('');
      },
    ],
    [
      'RAPIDKIT_REDIS_FORCE_RETRIES',
      '7',
      (env, v) => {
        expect(env).toContain('REDIS_RETRIES=7');
        expect(v).toContain('7');
      },
    ],
    [
      'RAPIDKIT_REDIS_FORCE_BACKOFF',
      '250ms',
      (env, v) => {
        expect(env).toContain('REDIS_BACKOFF=0.25');
        expect(v).toContain('0.25');
      },
    ],
    [
      'RAPIDKIT_REDIS_FORCE_TTL',
      '77',
      (env, v) => {
        expect(env).toContain('CACHE_TTL=77');
        expect(v).toContain('77');
      },
    ],
    [
      'RAPIDKIT_REDIS_PROJECT_NAME',
      'Shop API',
      (env, v) => {
        expect(env).toContain('REDIS_KEY_PREFIX=shop-api:');
        expect(v).toContain('shop-api');
        expect(v).toContain('Shop API');
      },
    ],
  ];

  /** The vendored files that differ from a default rendering, concatenated. */
  function vendorDiff(base: string, project: string): string {
    const a = snapshotTree(path.join(base, SNAP));
    const b = snapshotTree(path.join(project, SNAP));
    return [...b.entries()]
      .filter(([p, e]) => a.get(p)?.sha !== e.sha)
      .map(([p]) => read(project, `${SNAP}/${p}`))
      .join('\n');
  }

  test.each(FRAMEWORKS)('every FORCE_* and PROJECT_NAME override reaches the vendored defaults and .env.example (%s)', async (fw) => {
    const base = copyExample(fw, `ov-base-${fw}`);
    expect((await addJson(base)).code).toBe(0);
    for (const [name, value, check] of cases) {
      const project = copyExample(fw, `ov-${fw}`);
      const r = await addJson(project, [], { [name]: value });
      expect(r.code, `${name}: ${r.stdout}${r.stderr}`).toBe(0);
      const diff = vendorDiff(base, project);
      expect(diff, `${name} changed no vendored file`).not.toBe('');
      check(read(project, '.env.example'), diff);
    }
  });

  test('--set wins over an override; an invalid override names the variable, exits 2 and writes nothing', async () => {
    const project = copyExample('fastapi', 'ov-set');
    const r = await addJson(project, ['--set', 'cache_ttl=99'], { RAPIDKIT_REDIS_FORCE_TTL: '77' });
    expect(r.code).toBe(0);
    expect(read(project, '.env.example')).toContain('CACHE_TTL=99');

    for (const [name, value, expected] of [
      ['RAPIDKIT_REDIS_FORCE_TLS', 'maybe', 'RAPIDKIT_REDIS_FORCE_TLS: expected a boolean'],
      ['RAPIDKIT_REDIS_FORCE_PORT', 'http', 'RAPIDKIT_REDIS_FORCE_PORT: expected an integer'],
      ['RAPIDKIT_REDIS_FORCE_PORT', '70000', 'RAPIDKIT_REDIS_FORCE_PORT: expected a value <= 65535'],
      ['RAPIDKIT_REDIS_FORCE_TTL', '-5', 'RAPIDKIT_REDIS_FORCE_TTL: expected a value >= 0'],
      ['RAPIDKIT_REDIS_FORCE_URL', 'http://x', 'RAPIDKIT_REDIS_FORCE_URL: expected a redis:// or rediss:// URL'],
      ['RAPIDKIT_REDIS_FORCE_URL', 'redis://h:6379/99', 'RAPIDKIT_REDIS_FORCE_URL: the path of redis://h:6379/99: expected a value <= 15'],
      ['RAPIDKIT_REDIS_FORCE_URL', 'redis://h:6379/0?db=3', 'RAPIDKIT_REDIS_FORCE_URL: expected a URL without a query'],
      ['RAPIDKIT_REDIS_FORCE_HOST', 'h/x?y#z', 'RAPIDKIT_REDIS_FORCE_HOST: expected a host name'],
      ['RAPIDKIT_REDIS_FORCE_PASSWORD', 'pw\nINJECTED=1', 'RAPIDKIT_REDIS_FORCE_PASSWORD: expected a value without control characters'],
      ['RAPIDKIT_REDIS_EXTRA_SNIPPET_VARIANTS', '[fastapi', 'RAPIDKIT_REDIS_EXTRA_SNIPPET_VARIANTS'],
    ] as const) {
      const p = copyExample('fastapi', 'ov-bad');
      const before = snapshotTree(p);
      const env: Record<string, string> = { [name]: value };
      if (name.includes('VARIANTS')) env.RAPIDKIT_REDIS_EXTRA_SNIPPET = path.join(p, 'main.py');
      const bad = await runGen(['add', 'module', 'redis', '--project', p], { env });
      expect(bad.code, name).toBe(2);
      expect(bad.stderr).toContain(expected);
      expect(snapshotTree(p)).toEqual(before);
    }
    const unknown = await runGen(['add', 'module', 'redis', '--project', project, '--set', 'colour=red']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--set colour: unknown variable. Available variables:');
  });
});

describe('extra snippet hook', () => {
  function snippetFile(): string {
    const dir = tempDir('snippet-src');
    fs.writeFileSync(path.join(dir, 'cache-warmup.md'), '# warm-up notes\n');
    return path.join(dir, 'cache-warmup.md');
  }

  test('copied to the default and to a custom DEST, only for the listed variants', async () => {
    const src = snippetFile();
    const fast = copyExample('fastapi', 'extra-fast');
    const r = await addJson(fast, [], { RAPIDKIT_REDIS_EXTRA_SNIPPET: src, RAPIDKIT_REDIS_EXTRA_SNIPPET_VARIANTS: '["fastapi"]' });
    expect(r.code, r.stderr).toBe(0);
    expect(read(fast, 'extras/cache-warmup.md')).toBe('# warm-up notes\n');
    expect(r.json.files.find((f: any) => f.path === 'extras/cache-warmup.md')?.kind).toBe('extra');

    const nest = copyExample('nestjs', 'extra-nest');
    const r2 = await addJson(nest, [], { RAPIDKIT_REDIS_EXTRA_SNIPPET: src, RAPIDKIT_REDIS_EXTRA_SNIPPET_VARIANTS: '["fastapi"]' });
    expect(r2.code).toBe(0);
    expect(fs.existsSync(path.join(nest, 'extras'))).toBe(false);

    const custom = copyExample('fastify', 'extra-custom');
    const r3 = await addJson(custom, [], { RAPIDKIT_REDIS_EXTRA_SNIPPET: src, RAPIDKIT_REDIS_EXTRA_SNIPPET_DEST: 'docs/ops/warmup.md' });
    expect(r3.code).toBe(0);
    expect(read(custom, 'docs/ops/warmup.md')).toBe('# warm-up notes\n');
  });

  test('a missing file, a path outside the project and a symlink escape are refused with nothing written', async () => {
    const src = snippetFile();
    const outside = tempDir('outside');
    for (const [label, env, msg, prepare] of [
      ['missing', { RAPIDKIT_REDIS_EXTRA_SNIPPET: '/nonexistent/x.md' }, 'does not exist', null],
      ['dotdot', { RAPIDKIT_REDIS_EXTRA_SNIPPET: src, RAPIDKIT_REDIS_EXTRA_SNIPPET_DEST: '../escape.md' }, 'is outside the project', null],
      [
        'nested-dotdot',
        { RAPIDKIT_REDIS_EXTRA_SNIPPET: src, RAPIDKIT_REDIS_EXTRA_SNIPPET_DEST: 'a/../../escape.md' },
        'is outside the project',
        null,
      ],
      [
        'absolute',
        { RAPIDKIT_REDIS_EXTRA_SNIPPET: src, RAPIDKIT_REDIS_EXTRA_SNIPPET_DEST: path.join(outside, 'x.md') },
        'is outside the project',
        null,
      ],
      [
        'symlink',
        { RAPIDKIT_REDIS_EXTRA_SNIPPET: src, RAPIDKIT_REDIS_EXTRA_SNIPPET_DEST: 'linked/x.md' },
        'goes through a symlink',
        (p: string) => fs.symlinkSync(outside, path.join(p, 'linked')),
      ],
    ] as const) {
      const project = copyExample('fastapi', `extra-${label}`);
      if (prepare) prepare(project);
      const before = snapshotTree(project);
      const r = await runGen(['add', 'module', 'redis', '--project', project], { env: env as Record<string, string> });
      expect(r.code, label).toBe(2);
      expect(r.stderr, label).toContain(msg);
      expect(snapshotTree(project), label).toEqual(before);
      expect(fs.readdirSync(outside), label).toEqual([]);
    }
  });
});

test('malformed module.yaml: names the file and the field path, exit 2, nothing written', async () => {
  const cat = tempDir('catalogue');
  for (const p of ['module.yaml', 'modules', 'templates']) fs.cpSync(path.join(process.cwd(), p), path.join(cat, p), { recursive: true });
  const file = path.join(cat, 'modules/redis/module.yaml');
  const project = copyExample('fastapi', 'malformed');
  const before = snapshotTree(project);

  fs.writeFileSync(
    file,
    read(cat, 'modules/redis/module.yaml').replace(
      /(\n {4}wrappers:\n {6}- \{ template: [^,]+, )path: app\/redis_cache\.py \}/,
      '$1path: 42 }',
    ),
  );
  let r = await runGen(['add', 'module', 'redis', '--project', project], { env: { GEN_CATALOGUE: cat } });
  expect(r.code).toBe(2);
  expect(r.stderr).toContain("modules/redis/module.yaml: field 'frameworks.fastapi.wrappers[0].path': expected string");

  fs.writeFileSync(
    file,
    read(cat, 'modules/redis/module.yaml')
      .replace('path: 42 }', 'path: app/redis_cache.py }')
      .replace(/^version: .*$/m, 'version: one'),
  );
  r = await runGen(['add', 'module', 'redis', '--project', project], { env: { GEN_CATALOGUE: cat } });
  expect(r.code).toBe(2);
  expect(r.stderr).toContain("field 'version': expected a semantic version like 1.2.3");

  fs.writeFileSync(file, 'name: redis\nversion: [1.0\n');
  r = await runGen(['add', 'module', 'redis', '--project', project], { env: { GEN_CATALOGUE: cat } });
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('modules/redis/module.yaml: invalid YAML');
  expect(snapshotTree(project)).toEqual(before);
});

test('a template using an undeclared variable fails in strict mode (never renders an empty string)', async () => {
  const cat = tempDir('catalogue-strict');
  for (const p of ['module.yaml', 'modules', 'templates']) fs.cpSync(path.join(process.cwd(), p), path.join(cat, p), { recursive: true });
  fs.rmSync(path.join(cat, 'modules/redis/.module-state.json'), { force: true }); // unreleased: no drift refusal first
  fs.appendFileSync(path.join(cat, 'templates/redis/snippets/env.hbs'), 'REDIS_COLOUR={{vars.colour}}\n');
  const project = copyExample('fastapi', 'strict');
  const before = snapshotTree(project);
  const r = await runGen(['add', 'module', 'redis', '--project', project], { env: { GEN_CATALOGUE: cat } });
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('template templates/redis/snippets/env.hbs');
  expect(r.stderr).toContain('"colour" not defined');
  expect(snapshotTree(project)).toEqual(before);
});

test('a failure injected during the flush leaves the project byte-identical', async () => {
  const project = copyExample('nestjs', 'fault');
  fs.writeFileSync(path.join(project, '.env'), 'EXISTING=1\n');
  const before = snapshotTree(project);
  for (const after of ['0', '1', '5', '12']) {
    const r = await runGen(['add', 'module', 'redis', '--project', project], { env: { GEN_FAULT_AFTER: after } });
    expect(r.code, after).toBe(1);
    expect(r.stderr).toContain('nothing was changed');
    const now = snapshotTree(project);
    expect([...now.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [p, e] of before) expect(now.get(p)?.sha, p).toBe(e.sha);
  }
  // and the same inputs without the fault then succeed
  expect((await runGen(['add', 'module', 'redis', '--project', project])).code).toBe(0);
});

test('non-TTY: an edited wrapper is never overwritten and gen never prompts; --force overwrites', async () => {
  const project = copyExample('fastapi', 'conflict');
  const wrapper = info.frameworks.fastapi.wrappers[0];
  fs.mkdirSync(path.dirname(path.join(project, wrapper)), { recursive: true });
  fs.writeFileSync(path.join(project, wrapper), '# my own file\n');
  const r = await runGen(['add', 'module', 'redis', '--project', project], { env: { CI: 'true' } });
  expect(r.code).toBe(1); // returns at once: stdin is closed and nothing waits for an answer
  expect(r.stdout).toContain(`CONFLICT   ${wrapper}`);
  expect(r.stdout).toContain('--force');
  expect(read(project, wrapper)).toBe('# my own file\n');
  // everything else was applied
  expect(fs.existsSync(path.join(project, SNAP))).toBe(true);

  const forced = await addJson(project, ['--force']);
  expect(forced.code).toBe(0);
  expect(read(project, wrapper)).not.toBe('# my own file\n');

  // a wrapper edited after install, with no change from gen, is kept and reported as modified
  fs.appendFileSync(path.join(project, wrapper), '\n# my tweak\n');
  const again = await addJson(project);
  expect(again.code).toBe(0);
  expect(again.json.files.find((f: any) => f.path === wrapper).action).toBe('modified');
  expect(read(project, wrapper)).toContain('# my tweak');
});

test('a password override goes only into .env: never into source, .env.example, the output or the JSON', async () => {
  const secret = 'S3cr3t-Pa55word-xyz';
  const project = copyExample('fastapi', 'secret');
  fs.writeFileSync(path.join(project, '.env'), 'APP=1\n');
  const r = await addJson(project, [], { RAPIDKIT_REDIS_FORCE_PASSWORD: secret });
  expect(r.code).toBe(0);
  expect(read(project, '.env')).toContain(`REDIS_PASSWORD=${secret}`);
  expect(r.stdout + r.stderr).not.toContain(secret);
  const diff = await runGen(['add', 'module', 'redis', '--project', project, '--diff', '--set', 'cache_ttl=5'], {
    env: { RAPIDKIT_REDIS_FORCE_PASSWORD: secret },
  });
  expect(diff.stdout + diff.stderr).not.toContain(secret);
  for (const [p] of snapshotTree(project)) {
    if (p === '.env') continue;
    expect(read(project, p), p).not.toContain(secret);
  }
  // a password inside FORCE_URL is moved to .env too
  const p2 = copyExample('fastapi', 'secret-url');
  const r2 = await addJson(p2, [], { RAPIDKIT_REDIS_FORCE_URL: `redis://app:${secret}@cache.internal:6380/2` });
  expect(r2.code).toBe(0);
  expect(read(p2, '.env')).toContain(`REDIS_PASSWORD=${secret}`);
  expect(read(p2, '.env.example')).toContain('REDIS_URL=redis://app@cache.internal:6380/2');
  for (const [p] of snapshotTree(p2)) if (p !== '.env') expect(read(p2, p), p).not.toContain(secret);
});

describe('topology variables (redis_mode): the .env files get the block of the chosen mode', () => {
  test('standalone (default) writes no topology block; cluster writes REDIS_CLUSTER_NODES to .env.example and .env', async () => {
    const plain = copyExample('nestjs', 'topo-standalone');
    expect((await addJson(plain)).code).toBe(0);
    expect(read(plain, '.env.example')).not.toMatch(/REDIS_CLUSTER_NODES|REDIS_SENTINELS/);

    const project = copyExample('nestjs', 'topo-cluster');
    fs.writeFileSync(path.join(project, '.env'), 'APP=1\n');
    const nodes = '10.0.0.1:7000,10.0.0.2:7001,[::1]:7002';
    const r = await addJson(project, ['--set', 'redis_mode=cluster', '--set', `redis_cluster_nodes=${nodes}`]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const file of ['.env.example', '.env']) {
      const text = read(project, file);
      expect(text, file).toContain(`REDIS_CLUSTER_NODES=${nodes}`);
      expect(text, file).toContain('REDIS_URL=redis://localhost:6379/0'); // still there: its user, password and TLS apply
      expect(text, file).not.toContain('REDIS_SENTINELS');
    }
    expect(read(project, '.env.example')).toMatch(/# >>> gen:redis:env_example_cluster >>>/);
    // recorded in the lock: a re-run without the flags keeps the mode; the run is idempotent
    expect(read(project, '.rapidkit/modules.lock.yaml')).toContain('redis_mode: cluster');
    const again = await addJson(project);
    expect(again.code).toBe(0);
    expect(again.json.summary.create + again.json.summary.update).toBe(0);
    expect(read(project, '.env.example')).toContain(`REDIS_CLUSTER_NODES=${nodes}`);
    // the vendored runtime bakes nothing of the topology: the environment decides at run time
    const defaults = read(project, `${SNAP}/node/core/defaults.js`);
    expect(defaults).not.toContain('10.0.0.1');
  });

  test("sentinel: sentinels and master name in both files, the sentinels' credentials (secrets) only in .env", async () => {
    const user = 'sentinel-user-xyz';
    const secret = 'S3ntinel-Pa55-xyz';
    const project = copyExample('fastify', 'topo-sentinel');
    fs.writeFileSync(path.join(project, '.env'), 'APP=1\n');
    const r = await addJson(
      project,
      [
        '--set',
        'redis_mode=sentinel',
        '--set',
        'redis_sentinels=s1.internal:26379,s2.internal:26379',
        '--set',
        'redis_sentinel_master=mymaster',
        '--set',
        `redis_sentinel_username=${user}`,
      ],
      { RAPIDKIT_REDIS_FORCE_SENTINEL_PASSWORD: secret },
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const example = read(project, '.env.example');
    expect(example).toContain('REDIS_SENTINELS=s1.internal:26379,s2.internal:26379');
    expect(example).toContain('REDIS_SENTINEL_MASTER=mymaster');
    expect(example).toMatch(/^REDIS_SENTINEL_PASSWORD=$/m);
    expect(example).toMatch(/^REDIS_SENTINEL_USERNAME=$/m);
    expect(example).not.toContain('REDIS_CLUSTER_NODES');
    const env = read(project, '.env');
    expect(env).toContain(`REDIS_SENTINEL_PASSWORD=${secret}`);
    expect(env).toContain(`REDIS_SENTINEL_USERNAME=${user}`);
    expect(env).toContain('REDIS_SENTINEL_MASTER=mymaster');
    expect(r.stdout + r.stderr).not.toContain(secret);
    for (const [p] of snapshotTree(project)) {
      if (p === '.env') continue;
      expect(read(project, p), p).not.toContain(secret);
      expect(read(project, p), p).not.toContain(user);
    }
    // a re-run reads the recorded secret back from .env
    expect((await addJson(project)).code).toBe(0);
    expect(read(project, '.env')).toContain(`REDIS_SENTINEL_PASSWORD=${secret}`);
  });

  test('invalid topology values name the variable, exit 2 and write nothing', async () => {
    for (const [set, expected] of [
      ['redis_mode=bogus', '--set redis_mode: expected one of standalone, cluster, sentinel'],
      ['redis_cluster_nodes=nohost', '--set redis_cluster_nodes: expected a value matching'],
      ['redis_sentinels=a:1,b', '--set redis_sentinels: expected a value matching'],
      ['redis_sentinel_master=my master', '--set redis_sentinel_master: expected a value matching'],
    ] as const) {
      const project = copyExample('express', 'topo-bad');
      const before = snapshotTree(project);
      const r = await runGen(['add', 'module', 'redis', '--project', project, '--set', set]);
      expect(r.code, set).toBe(2);
      expect(r.stderr).toContain(expected);
      expect(snapshotTree(project)).toEqual(before);
    }
  });
});

test('help and version answer without loading commands', async () => {
  const v = await runGen(['--version']);
  expect(v.code).toBe(0);
  expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  const h = await runGen(['add', 'module', '--help']);
  expect(h.code).toBe(0);
  for (const flag of ['--framework', '--project', '--dry-run', '--diff', '--json', '--yes', '--force', '--set'])
    expect(h.stdout).toContain(flag);
  const list = await runGen(['modules', 'list', '--json']);
  expect(JSON.parse(list.stdout).modules[0]).toMatchObject({
    name: 'redis',
    version: REDIS_VERSION,
    frameworks: ALL.split(', '),
  });
});

test('without anchors the wiring is not guessed: the summary prints the exact manual steps', async () => {
  const project = copyExample('fastapi', 'no-anchor');
  const main = path.join(project, 'main.py');
  fs.writeFileSync(
    main,
    read(project, 'main.py')
      .split('\n')
      .filter((l) => !l.includes('<<<gen:'))
      .join('\n'),
  );
  const before = read(project, 'main.py');
  const r = await addJson(project);
  expect(r.code).toBe(0);
  expect(r.json.manual.map((m: any) => m.snippet).sort()).toEqual(['fastapi_import', 'fastapi_wiring']);
  for (const m of r.json.manual) {
    expect(m.target).toBe('main.py');
    expect(m.step.length).toBeGreaterThan(10);
  }
  expect(read(project, 'main.py')).toBe(before);
  const text = await runGen(['add', 'module', 'redis', '--project', project]);
  expect(text.stdout).toContain('Manual steps');
  expect(text.stdout).toContain('register_redis(app)');
});

test('framework detection: fastapi, nestjs, fastify, express, python (celery/flask/django), node as the fallback', async () => {
  const cases: Array<[Record<string, string>, string]> = [
    [{ 'pyproject.toml': '[project]\nname = "x"\ndependencies = ["fastapi>=0.100"]\n' }, 'fastapi'],
    [{ 'package.json': '{"dependencies": {"@nestjs/core": "^11.0.0"}}' }, 'nestjs'],
    [{ 'package.json': '{"dependencies": {"fastify": "^5.0.0"}}' }, 'fastify'],
    [
      { 'package.json': '{"dependencies": {"@nestjs/core": "^11.0.0", "@nestjs/platform-fastify": "^11.0.0", "fastify": "^5.0.0"}}' },
      'nestjs',
    ],
    [{ 'package.json': '{"dependencies": {"express": "^5.1.0"}, "devDependencies": {"@types/express": "^5.0.3"}}' }, 'express'],
    [{ 'package.json': '{"dependencies": {"express": "^4.21.0"}}' }, 'express'],
    // a Nest app on the (default) Express platform stays Nest, even when it also names express itself
    [{ 'package.json': '{"dependencies": {"@nestjs/core": "^11.0.0", "@nestjs/platform-express": "^11.0.0"}}' }, 'nestjs'],
    [
      { 'package.json': '{"dependencies": {"@nestjs/core": "^11.0.0", "@nestjs/platform-express": "^11.0.0", "express": "^5.0.0"}}' },
      'nestjs',
    ],
    [{ 'package.json': '{"dependencies": {"fastify": "^5.0.0", "@fastify/express": "^4.0.0"}}' }, 'fastify'],
    // package.json naming none of the frameworks: plain Node
    [{ 'package.json': '{"name": "worker", "dependencies": {"bullmq": "^5.0.0"}}' }, 'node'],
    [{ 'package.json': '{"name": "empty"}' }, 'node'],
    [{ 'requirements.txt': 'Flask==3.0.3\nredis>=4.3\n' }, 'python'],
    [{ 'requirements.txt': 'celery[redis]>=5.3\n' }, 'python'],
    [{ 'pyproject.toml': '[project]\nname = "x"\ndependencies = ["Django>=5.0"]\n' }, 'python'],
    [{ 'requirements.txt': 'fastapi>=0.100\ncelery>=5.3\n' }, 'fastapi'],
    [{ 'pyproject.toml': '[project]\nname = "x"\ndependencies = ["celery", "fastapi"]\n' }, 'fastapi'],
    // a Python project with a package.json for its front-end tooling is still the Python one
    [{ 'requirements.txt': 'flask\n', 'package.json': '{"devDependencies": {"vite": "^5.0.0"}}' }, 'python'],
    [{ 'requirements.txt': 'fastapi\n', 'package.json': '{"devDependencies": {"vite": "^5.0.0"}}' }, 'fastapi'],
  ];
  for (const [files, expected] of cases) {
    const dir = tempDir('detect');
    for (const [f, c] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), c);
    const r = await addJson(dir, ['--dry-run']);
    expect(r.code, JSON.stringify(files) + r.stderr).toBe(0);
    expect(r.json.framework).toBe(expected);
  }
});

test('re-running add keeps the options recorded in the lock, and the password in .env', async () => {
  const secret = 'Keep-Me-S3cret-99';
  const project = copyExample('fastapi', 'rerun');
  fs.writeFileSync(path.join(project, '.env'), 'APP=1\n');
  const first = await addJson(project, [], {
    RAPIDKIT_REDIS_FORCE_TTL: '77',
    RAPIDKIT_REDIS_FORCE_PASSWORD: secret,
    RAPIDKIT_REDIS_PROJECT_NAME: 'Shop API',
  });
  expect(first.code).toBe(0);
  const before = snapshotTree(project);
  const again = await addJson(project); // no overrides this time: nothing may revert or be lost
  expect(again.code, again.stdout).toBe(0);
  expect(new Set(again.json.files.map((f: any) => f.action))).toEqual(new Set(['unchanged']));
  expect(snapshotTree(project)).toEqual(before);
  const changed = await addJson(project, ['--set', 'cache_ttl=5']);
  expect(changed.code).toBe(0);
  expect(read(project, '.env.example')).toContain('CACHE_TTL=5');
  expect(read(project, '.env.example')).toContain('REDIS_KEY_PREFIX=shop-api:');
  expect(read(project, '.env')).toContain(`REDIS_PASSWORD=${secret}`);
  expect(changed.stdout).not.toContain(secret);
  const v = await runGen(['modules', 'verify-all', '--project', project]);
  expect(v.code, v.stdout).toBe(0);
});

describe.each([
  ['python', 'plain-python', 'redis_cache.py'],
  ['node', 'plain-node', 'src/redis.ts'],
] as const)('gen add module redis on a plain %s project', (fw, fixture, wrapper) => {
  test('detected, wrapper and snippets written, no framework wiring, verify-all green, a re-run changes nothing', async () => {
    const project = tempDir(`plain-${fw}`);
    fs.cpSync(path.join(REPO, 'test/fixtures', fixture), project, { recursive: true });
    const r = await addJson(project);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json.framework).toBe(fw);
    expect(r.json.manual).toEqual([]);
    expect(r.json.files.find((f: any) => f.path === wrapper)?.kind).toBe('wrapper');
    expect(read(project, `${SNAP}/_pristine/${wrapper}`)).toBe(read(project, wrapper));
    expect(read(project, 'README.md')).toContain('No route is added');
    const vendored = listAll(project, SNAP).filter((p) => !p.includes('/_pristine/'));
    if (fw === 'python') {
      expect(vendored.filter((p) => /\.(ts|js)$/.test(p))).toEqual([]);
      expect(read(project, wrapper)).not.toMatch(/^\s*(from|import) fastapi/m);
    } else {
      expect(vendored.filter((p) => p.endsWith('.py'))).toEqual([]);
      expect(vendored.filter((p) => /\/node\/(nestjs|fastify|express)\//.test(p))).toEqual([]); // the core only
      expect(JSON.parse(read(project, 'package.json')).dependencies.ioredis).toBeDefined();
    }
    const v = await runGen(['modules', 'verify-all', '--project', project]);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    const before = snapshotTree(project);
    await new Promise((res) => setTimeout(res, 20));
    const again = await addJson(project);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect([...new Set(again.json.files.map((f: any) => f.action))]).toEqual(['unchanged']);
    expect(snapshotTree(project)).toEqual(before);
  });
});

test('--framework node and --framework python install the plain variants into a project that names another framework', async () => {
  const nest = copyExample('nestjs', 'force-node');
  const r = await addJson(nest, ['--framework', 'node', '--dry-run']);
  expect(r.code, r.stderr).toBe(0);
  expect(r.json.framework).toBe('node');
  const fast = copyExample('fastapi', 'force-python');
  const p = await addJson(fast, ['--framework', 'python', '--dry-run']);
  expect(p.code, p.stderr).toBe(0);
  expect(p.json.framework).toBe('python');
  expect(p.json.files.some((f: any) => f.path === 'redis_cache.py')).toBe(true);
});
