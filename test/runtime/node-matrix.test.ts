import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ENTRY, REPO, RedisServer, generate, http, removeAfterSuccess, startApp, type Framework, tscStrictest } from '../helpers.js';

// The Node matrix: each row installs the generated project's own package.json (what `gen add` wrote: ioredis,
// fastify-plugin, ...) with the row's framework major, into .cache/node-matrix/<row>-<hash> (reused while the row
// and the generated dependencies are unchanged; npm's cache is .cache/npm). The app must build under the strictest
// tsconfig (strict, noUncheckedIndexedAccess, exactOptionalPropertyTypes, skipLibCheck off) and answer its health
// route and a cached route against a real redis-server. Adding a framework major (or a new framework such as
// express@4 / express@5) is one row.
interface Row {
  name: string;
  framework: Framework;
  /** package -> range, merged over the generated package.json's dependencies */
  deps: Record<string, string>;
  /** package -> the major the row proves (checked against what npm installed) */
  major: Record<string, number>;
}
const IOREDIS = { ioredis: '^5' }; // latest 5.x
const NEST10 = {
  '@nestjs/common': '^10',
  '@nestjs/core': '^10',
  '@nestjs/platform-express': '^10',
  '@nestjs/terminus': '^10',
  '@nestjs/config': '^3',
};
const NEST11 = {
  '@nestjs/common': '^11',
  '@nestjs/core': '^11',
  '@nestjs/platform-express': '^11',
  '@nestjs/terminus': '^11',
  '@nestjs/config': '^4',
};
export const NODE_MATRIX: Row[] = [
  { name: 'nestjs@10', framework: 'nestjs', deps: { ...NEST10, ...IOREDIS }, major: { '@nestjs/core': 10, ioredis: 5 } },
  { name: 'nestjs@11', framework: 'nestjs', deps: { ...NEST11, ...IOREDIS }, major: { '@nestjs/core': 11, ioredis: 5 } },
  { name: 'fastify@4', framework: 'fastify', deps: { fastify: '^4', ...IOREDIS }, major: { fastify: 4, ioredis: 5 } },
  { name: 'fastify@5', framework: 'fastify', deps: { fastify: '^5', ...IOREDIS }, major: { fastify: 5, ioredis: 5 } },
  { name: 'fastify@5 + ioredis@6', framework: 'fastify', deps: { fastify: '^5', ioredis: '^6' }, major: { fastify: 5, ioredis: 6 } },
  {
    name: 'express@4',
    framework: 'express',
    deps: { express: '^4', '@types/express': '^4', ...IOREDIS },
    major: { express: 4, '@types/express': 4, ioredis: 5 },
  },
  {
    name: 'express@5',
    framework: 'express',
    deps: { express: '^5', '@types/express': '^5', ...IOREDIS },
    major: { express: 5, '@types/express': 5, ioredis: 5 },
  },
];

const CACHE = path.join(REPO, '.cache', 'node-matrix');

/** node_modules for the row (installed once per row + dependency set), returned as a folder to link. */
function install(row: Row, project: string): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(project, 'package.json'), 'utf8'));
  const manifest = {
    name: `gen-matrix-${row.name.replace(/[^a-z0-9]+/g, '-')}`,
    private: true,
    dependencies: { ...pkg.dependencies, ...row.deps },
    // a row's pin wins over the example's own (e.g. @types/express@4 for the Express 4 row)
    devDependencies: Object.fromEntries(Object.entries(pkg.devDependencies ?? {}).filter(([name]) => !(name in row.deps))),
  };
  const hash = createHash('sha256').update(JSON.stringify(manifest)).digest('hex').slice(0, 12);
  const dir = path.join(CACHE, `${manifest.name}-${hash}`);
  if (!fs.existsSync(path.join(dir, '.complete'))) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    execFileSync(npm, ['install', '--no-audit', '--no-fund', '--loglevel=error', '--cache', path.join(REPO, '.cache', 'npm')], {
      cwd: dir,
      stdio: 'pipe',
      timeout: 300_000,
    });
    fs.writeFileSync(path.join(dir, '.complete'), '');
  }
  return path.join(dir, 'node_modules');
}

const projects: string[] = [];
removeAfterSuccess(() => projects);
let server: RedisServer;
beforeAll(async () => {
  server = await new RedisServer().start();
});
afterAll(async () => {
  await server?.cleanup();
});

describe.each(NODE_MATRIX)('$name', (row) => {
  let project = '';

  beforeAll(async () => {
    project = await generate(row.framework, `matrix-${row.name.replace(/\W+/g, '-')}`);
    projects.push(project);
    const modules = install(row, project);
    fs.rmSync(path.join(project, 'node_modules'), { recursive: true, force: true });
    fs.symlinkSync(modules, path.join(project, 'node_modules'), 'dir');
  }, 600_000);

  test('installs the framework major it claims', () => {
    for (const [name, major] of Object.entries(row.major)) {
      const { version } = JSON.parse(fs.readFileSync(path.join(project, 'node_modules', name, 'package.json'), 'utf8'));
      expect(`${name}@${version}`).toMatch(new RegExp(`^${name.replace('/', '\\/')}@${major}\\.`));
    }
  });

  test('builds under the strictest tsconfig and answers the health route and a cached route against a real redis-server', async () => {
    tscStrictest(project, { emit: true }); // type errors throw; emits dist/
    const prefix = `gentest:matrix-${row.name}:`;
    const app = await startApp(project, path.join('dist', ENTRY[row.framework]), { REDIS_URL: server.url, REDIS_KEY_PREFIX: prefix });
    try {
      const h = await http(app.port, '/api/health/module/redis');
      expect(h.status, app.log()).toBe(200);
      expect(h.body).toMatchObject({ status: 'ok', module: 'redis', connection: { port: server.port }, breaker: { state: 'closed' } });
      expect((await http(app.port, '/products/3')).body).toEqual({ id: 3, name: 'Product 3', price_cents: 1003 });
      expect((await http(app.port, '/products/3')).body.id).toBe(3);
      expect((await http(app.port, '/stats')).body.loader_calls).toBe(1); // the second read was a cache hit
    } finally {
      await app.stop();
    }
  }, 120_000);
});
