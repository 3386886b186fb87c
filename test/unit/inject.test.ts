import { describe, expect, test } from 'vitest';
import { injectSnippet } from '../../src/engine/inject.js';
import { commentStyleFor, markerLines } from '../../src/lock/markers.js';
import { addDependencies } from '../../src/engine/project-edits.js';

const def = (extra: object = {}) => ({ target: 'x', template: 't', ...extra });

describe('injectSnippet', () => {
  test('inserts after the anchor with its indentation, and a second run is byte-identical', () => {
    const src = 'imports: [\n    // <<<gen:modules>>>\n    Other,\n]\n';
    const d = def({ anchor: '^\\s*// <<<gen:modules>>>\\s*$' });
    const once = injectSnippet(src, 'src/app.module.ts', 'redis', 'nest_module', 'RedisModule.forRoot(),\n', d);
    expect(once).toEqual({
      status: 'ok',
      content:
        'imports: [\n    // <<<gen:modules>>>\n    // >>> gen:redis:nest_module >>>\n    RedisModule.forRoot(),\n    // <<< gen:redis:nest_module <<<\n    Other,\n]\n',
    });
    const twice = injectSnippet((once as any).content, 'src/app.module.ts', 'redis', 'nest_module', 'RedisModule.forRoot(),\n', d);
    expect(twice).toEqual(once);
  });

  test('replaces an existing block in place when the content changes', () => {
    const d = def({ append: true });
    const a = injectSnippet('X=1\n', '.env', 'redis', 'env', 'CACHE_TTL=1\n', d) as any;
    const b = injectSnippet(a.content, '.env', 'redis', 'env', 'CACHE_TTL=2\n', d) as any;
    expect(b.content).toBe('X=1\n\n# >>> gen:redis:env >>>\nCACHE_TTL=2\n# <<< gen:redis:env <<<\n');
  });

  test('uses the host comment syntax: HTML comments in Markdown are closed', () => {
    const r = injectSnippet(null, 'README.md', 'redis', 'readme', '## Redis\n', def({ create: true })) as any;
    expect(r.content).toBe('<!-- >>> gen:redis:readme >>> -->\n## Redis\n<!-- <<< gen:redis:readme <<< -->\n');
    expect(commentStyleFor('.env.production').open).toBe('#');
    expect(commentStyleFor('src/main.ts').open).toBe('//');
    expect(markerLines('redis', 'x', commentStyleFor('a.md')).end).toBe('<!-- <<< gen:redis:x <<< -->');
  });

  test('keeps CRLF files CRLF', () => {
    const r = injectSnippet('A=1\r\nB=2\r\n', '.env', 'redis', 'env', 'C=3\n', def({ append: true })) as any;
    expect(r.content).toBe('A=1\r\nB=2\r\n\r\n# >>> gen:redis:env >>>\r\nC=3\r\n# <<< gen:redis:env <<<\r\n');
  });

  test('no anchor and no append: a manual step, content untouched', () => {
    const r = injectSnippet('app = FastAPI()\n', 'main.py', 'redis', 'w', 'x\n', def({ anchor: '^# <<<gen:app>>>$' }));
    expect(r).toEqual({ status: 'manual', reason: 'no line matching ^# <<<gen:app>>>$ in main.py' });
  });

  test('a header is written when the anchor section is missing (compose volumes)', () => {
    const r = injectSnippet(
      'services:\n  web: {}\n',
      'docker-compose.yml',
      'redis',
      'vol',
      'redis-data: {}\n',
      def({ anchor: '^volumes:\\s*$', append: true, header: 'volumes:', indent: '  ' }),
    ) as any;
    expect(r.content).toBe('services:\n  web: {}\n\nvolumes:\n  # >>> gen:redis:vol >>>\n  redis-data: {}\n  # <<< gen:redis:vol <<<\n');
  });

  test('broken or duplicated markers are a conflict, never a guess', () => {
    const half = '# >>> gen:redis:env >>>\nA=1\n';
    expect(injectSnippet(half, '.env', 'redis', 'env', 'A=2\n', def({ append: true })).status).toBe('conflict');
    const dup = '# >>> gen:redis:env >>>\n# <<< gen:redis:env <<<\n# >>> gen:redis:env >>>\n# <<< gen:redis:env <<<\n';
    expect(injectSnippet(dup, '.env', 'redis', 'env', 'A=2\n', def({ append: true })).status).toBe('conflict');
  });
});

describe('addDependencies', () => {
  test('adds only missing dependencies, keeps the user versions and the indentation', () => {
    const src = '{\n    "name": "x",\n    "dependencies": {\n        "ioredis": "5.0.0"\n    }\n}\n';
    const out = addDependencies(src, { ioredis: '^5.4.0', 'fastify-plugin': '^5.0.0' })!;
    expect(JSON.parse(out).dependencies).toEqual({ 'fastify-plugin': '^5.0.0', ioredis: '5.0.0' });
    expect(out).toContain('\n    "name"');
    expect(addDependencies(out, { ioredis: '^5.4.0' })).toBe(out);
    expect(addDependencies('{ nope', { a: '1' })).toBeNull();
  });
});

test('env snippets leave out keys the user already defines outside the markers', () => {
  const d = def({ append: true, skip_existing_keys: true });
  const user = 'REDIS_URL=redis://prod:6379/0\nexport CACHE_TTL=5\n';
  const r = injectSnippet(
    user,
    '.env',
    'redis',
    'env',
    'REDIS_URL=redis://localhost:6379/0\nCACHE_TTL=3600\nREDIS_KEY_PREFIX=app:\n',
    d,
  ) as any;
  expect(r.content).toBe(`${user}\n# >>> gen:redis:env >>>\nREDIS_KEY_PREFIX=app:\n# <<< gen:redis:env <<<\n`);
  // idempotent: our own block's keys do not count as the user's
  expect(
    injectSnippet(r.content, '.env', 'redis', 'env', 'REDIS_URL=redis://localhost:6379/0\nCACHE_TTL=3600\nREDIS_KEY_PREFIX=app:\n', d),
  ).toEqual(r);
});
