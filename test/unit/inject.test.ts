import { describe, expect, test } from 'vitest';
import { injectSnippet } from '../../src/engine/inject.js';
import { commentStyleFor, markerLines } from '../../src/lock/markers.js';
import { addDependencies, removeDependencies } from '../../src/engine/project-edits.js';

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

describe('package.json edits (jsonc-parser: the rest of the file keeps its bytes)', () => {
  test('adds only missing dependencies, keeps the user versions and the indentation; says what it added', () => {
    const src = '{\n    "name": "x",\n    "dependencies": {\n        "ioredis": "5.0.0"\n    }\n}\n';
    const out = addDependencies(src, { ioredis: '^5.4.0', 'fastify-plugin': '^5.0.0' })!;
    expect(JSON.parse(out.text).dependencies).toEqual({ 'fastify-plugin': '^5.0.0', ioredis: '5.0.0' });
    expect(out.added).toEqual({ 'fastify-plugin': '^5.0.0' });
    expect(out.text).toBe(
      '{\n    "name": "x",\n    "dependencies": {\n        "fastify-plugin": "^5.0.0",\n        "ioredis": "5.0.0"\n    }\n}\n',
    );
    expect(addDependencies(out.text, { ioredis: '^5.4.0' })).toEqual({ text: out.text, added: {} });
    expect(addDependencies('{ nope', { a: '1' })).toBeNull();
  });
  test("a dependency declared as a devDependency is the user's choice: not added", () => {
    const src = '{\n  "devDependencies": { "ioredis": "^5.0.0" }\n}\n';
    expect(addDependencies(src, { ioredis: '^5.4.0' })).toEqual({ text: src, added: {} });
  });
  test('CRLF stays CRLF, with its final newline', () => {
    const out = addDependencies('{\r\n  "name": "x",\r\n  "dependencies": {}\r\n}\r\n', { ioredis: '^5.4.0' })!;
    expect(out.text).toBe('{\r\n  "name": "x",\r\n  "dependencies": {\r\n    "ioredis": "^5.4.0"\r\n  }\r\n}\r\n');
  });
  test('tabs stay tabs; no final newline stays none', () => {
    const out = addDependencies('{\n\t"name": "x"\n}', { ioredis: '^5.4.0' })!;
    expect(out.text).toBe('{\n\t"name": "x",\n\t"dependencies": {\n\t\t"ioredis": "^5.4.0"\n\t}\n}');
  });
  test('removeDependencies undoes addDependencies byte for byte, and keeps an entry whose range you changed', () => {
    for (const src of [
      '{\n  "name": "x",\n  "dependencies": {\n    "fastify": "^5.0.0",\n    "zod": "^4.0.0"\n  }\n}\n',
      '{\n\t"name": "x"\n}',
      '{\r\n  "name": "x"\r\n}\r\n',
    ]) {
      const added = addDependencies(src, { ioredis: '^5.4.0', 'fastify-plugin': '^5.0.0' })!;
      const removed = removeDependencies(added.text, added.added)!;
      expect(removed.kept).toEqual([]);
      expect(removed.text).toBe(src);
    }
    // a list left empty goes (gen cannot tell an empty list you kept from one it created)
    const emptied = addDependencies('{\n  "dependencies": {}\n}\n', { ioredis: '^5.4.0' })!;
    expect(JSON.parse(removeDependencies(emptied.text, emptied.added)!.text)).toEqual({});
    const mine = addDependencies('{\n  "name": "x"\n}\n', { ioredis: '^5.4.0' })!;
    const bumped = mine.text.replace('^5.4.0', '^5.9.0');
    expect(removeDependencies(bumped, mine.added)).toEqual({ text: bumped, kept: ['ioredis'] });
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
