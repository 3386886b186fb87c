import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadModule } from '../../src/module/load.js';
import { resolveOptions, slugify } from '../../src/engine/options.js';
import { pyLiteral } from '../../src/engine/templates.js';

const mod = loadModule('redis', process.cwd());
const project = fs.mkdtempSync(path.join(os.tmpdir(), 'my-shop-'));
const resolve = (env: Record<string, string> = {}, sets: string[] = []) =>
  resolveOptions({ def: mod.def, projectDir: project, sets, env, cwd: project });

describe('resolveOptions', () => {
  test('defaults: URL composed from parts, slug from the folder, prefix from the slug', () => {
    const o = resolve();
    expect(o.vars.redis_url).toBe('redis://localhost:6379/0');
    expect(o.vars.project_slug).toBe(slugify(path.basename(project)));
    expect(o.vars.key_prefix).toBe(`${o.vars.project_slug}:`);
    expect(o.vars.has_redis_password).toBe(false);
    expect(o.inputs).toEqual({});
  });

  test('a URL is split into parts; its password becomes a secret and leaves the URL', () => {
    const o = resolve({ RAPIDKIT_REDIS_FORCE_URL: 'rediss://app:p%40ss@cache.internal:6380/2' });
    expect(o.vars).toMatchObject({
      redis_url: 'rediss://app@cache.internal:6380/2',
      redis_host: 'cache.internal',
      redis_port: 6380,
      redis_db: 2,
      redis_tls: true,
      has_redis_password: true,
    });
    expect(o.secrets.redis_password).toBe('p@ss');
    expect(JSON.stringify(o.vars) + JSON.stringify(o.inputs)).not.toContain('p@ss');
  });

  test('explicit parts win over the URL; --set wins over overrides; secrets are recorded by reference', () => {
    const o = resolve(
      { RAPIDKIT_REDIS_FORCE_URL: 'redis://a:6379/1', RAPIDKIT_REDIS_FORCE_PORT: '7000', RAPIDKIT_REDIS_FORCE_PASSWORD: 'pw' },
      ['redis_db=3'],
    );
    expect(o.vars.redis_url).toBe('redis://a:7000/3');
    expect(o.sources).toMatchObject({ redis_port: 'override', redis_db: 'set' });
    expect(o.inputs.redis_password).toEqual({ secret: true, env: 'REDIS_PASSWORD' });
  });

  test('durations accept ms and s; project names slugify', () => {
    expect(resolve({ RAPIDKIT_REDIS_FORCE_BACKOFF: '250ms' }).vars.redis_backoff).toBe(0.25);
    expect(resolve({}, ['socket_timeout=2s']).vars.socket_timeout).toBe(2);
    expect(slugify('  Shop API (v2) ')).toBe('shop-api-v2');
    expect(slugify('Café Crème')).toBe('cafe-creme');
    expect(slugify('***')).toBe('app');
  });

  test('an empty override is unset', () => {
    expect(resolve({ RAPIDKIT_REDIS_FORCE_TTL: '  ' }).vars.cache_ttl).toBe(3600);
  });
});

test('pyLiteral prints Python literals', () => {
  expect(pyLiteral({ a: true, b: null, c: [1, 'x'], d: 0.5 })).toBe('{"a": True, "b": None, "c": [1, "x"], "d": 0.5}');
});

test('what gets recorded never holds a password, not even one given inside FORCE_URL', () => {
  const o = resolve({ RAPIDKIT_REDIS_FORCE_URL: 'redis://app:hunter2secret@cache:6379/1' });
  expect(o.inputs.redis_url).toBe('redis://app@cache:6379/1');
  expect(o.inputs.redis_password).toEqual({ secret: true, env: 'REDIS_PASSWORD' });
  expect(JSON.stringify(o.inputs)).not.toContain('hunter2secret');
});
