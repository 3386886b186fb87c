// Table of bad inputs (overrides, --set, arguments, module.yaml, links, modes, CRLF): each is refused with its exit
// code, a message naming the field as the user gave it and a remedy, no secret echoed, and a project tree whose
// sha256 listing is unchanged, in plain and --json mode.
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, test } from 'vitest';
import { copyExample, GEN, REPO, runGen, shaListing, tempDir, tinyProject } from '../helpers.js';

interface Case {
  name: string;
  /** Overrides (RAPIDKIT_*) and other environment. */
  env?: Record<string, string>;
  /** Extra arguments after `add module redis --project <dir>`. */
  args?: string[];
  /** The whole argument list instead ({P} = the project folder). */
  argv?: string[];
  /** Prepares the project (links, files) before the run. */
  setup?: (dir: string, outside: string) => void;
  /** module.yaml of the tiny fixture module, edited (runs `add module tiny` on a tiny project). */
  moduleYaml?: (text: string) => string;
  /** Makes this folder read-only for gen (a real EACCES). */
  readOnly?: string;
  exit: number;
  /** What the message must name (the variable, flag, file or field). */
  names: string;
  code?: string;
  /** Must not appear anywhere in the output. */
  secret?: string;
}

const URL = 'RAPIDKIT_REDIS_FORCE_URL';
const HOST = 'RAPIDKIT_REDIS_FORCE_HOST';
const PORT = 'RAPIDKIT_REDIS_FORCE_PORT';
const DB = 'RAPIDKIT_REDIS_FORCE_DB';
const PW = 'RAPIDKIT_REDIS_FORCE_PASSWORD';
const NAME = 'RAPIDKIT_REDIS_PROJECT_NAME';
const EXTRA = 'RAPIDKIT_REDIS_EXTRA_SNIPPET';

const env = (name: string, k: string, v: string, names = k, secret?: string): Case => ({ name, env: { [k]: v }, exit: 2, names, secret });
const set = (name: string, kv: string, names = `--set ${kv.split('=')[0]}`): Case => ({ name, args: ['--set', kv], exit: 2, names });
const link = (name: string, rel: string, to: (outside: string, dir: string) => string, names = rel): Case => ({
  name,
  setup: (dir, outside) => {
    const target = to(outside, dir);
    fs.rmSync(path.join(dir, rel), { recursive: true, force: true });
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.symlinkSync(target, path.join(dir, rel));
  },
  exit: 2,
  names,
  code: 'UNSAFE_PATH',
});
const yaml = (name: string, edit: (t: string) => string, names: string): Case => ({ name, moduleYaml: edit, exit: 2, names });

const CASES: Case[] = [
  // URL overrides: db, port, host, scheme, query, fragment, path, control characters, secrets redacted
  env('url: db 99 out of range', URL, 'redis://h:6379/99'),
  env('url: db not a number', URL, 'redis://h:6379/abc'),
  env('url: db negative', URL, 'redis://h:6379/-1'),
  env('url: two path segments', URL, 'redis://h:6379/0/1'),
  env('url: port 0', URL, 'redis://h:0/0'),
  env('url: port 99999', URL, 'redis://h:99999/0'),
  env('url: http scheme with a password (redacted)', URL, 'http://u:pw-http-9@x', URL, 'pw-http-9'),
  env('url: ftp scheme with a password (redacted)', URL, 'ftp://admin:ftp-secret-7@h/', URL, 'ftp-secret-7'),
  env('url: unix socket not supported', URL, 'unix:///tmp/redis.sock'),
  env('url: query', URL, 'redis://h:6379/0?ssl=true'),
  env('url: fragment', URL, 'redis://h:6379/0#x'),
  env('url: query with a password (redacted)', URL, 'redis://:qpw-secret-5@h:6379/0?x=1', URL, 'qpw-secret-5'),
  env('url: not a URL', URL, 'not a url'),
  env('url: no scheme', URL, 'localhost:6379'),
  env('url: bad host', URL, 'redis://bad_host!x:6379/0'),
  env('url: newline', URL, 'redis://h:6379/0\nINJECTED=1'),
  env('url: CRLF', URL, 'redis://h:6379/0\r\n'),
  env('url: unbalanced IPv6 bracket', URL, 'redis://[::1:6379/0'),
  // host, port, db
  env('host: space', HOST, 'bad host'),
  env('host: path, query and fragment', HOST, 'h/x?y#z'),
  env('host: leading dash', HOST, '-h'),
  env('host: empty label', HOST, 'a..b'),
  env('host: label of 64 characters', HOST, `${'a'.repeat(64)}.com`),
  env('host: unbalanced IPv6 bracket', HOST, '[::1'),
  env('host: bad IPv6', HOST, '[::1::2]'),
  env('host: URL instead of a host (redacted)', HOST, 'redis://u:hostpw-3@h', HOST, 'hostpw-3'),
  env('host: CR', HOST, 'h\r'),
  env('port: 0', PORT, '0'),
  env('port: 65536', PORT, '65536'),
  env('port: not a number', PORT, 'abc'),
  env('port: negative', PORT, '-1'),
  env('port: fraction', PORT, '6379.5'),
  env('db: 16', DB, '16'),
  env('db: not a number', DB, 'x'),
  // secrets and names
  env('password: newline (hidden)', PW, 'pw\nINJECTED=1', PW, 'INJECTED'),
  env('password: CR (hidden)', PW, 'secret-cr-4\r', PW, 'secret-cr-4'),
  env('password: escape character (hidden)', PW, 'esc\u001b[31m-pw', PW, 'esc\u001b'),
  env('project name: no letter or digit', NAME, '!!!'),
  env('project name: only dashes', NAME, '---'),
  env('project name: newline', NAME, 'shop\nINJECTED=1'),
  env('tls: not a boolean', 'RAPIDKIT_REDIS_FORCE_TLS', 'maybe'),
  env('retries: above max', 'RAPIDKIT_REDIS_FORCE_RETRIES', '11'),
  env('backoff: not a duration', 'RAPIDKIT_REDIS_FORCE_BACKOFF', 'soon'),
  env('ttl: negative', 'RAPIDKIT_REDIS_FORCE_TTL', '-5'),
  // --set
  set('--set port out of range', 'redis_port=70000'),
  set('--set unknown variable', 'nope=1', '--set nope'),
  set('--set without =', 'redis_port', '--set redis_port'),
  set('--set host with a space', 'redis_host=a b'),
  set('--set url with db 99', 'redis_url=redis://h:1/99'),
  set('--set project name without letters', 'project_name=!!!'),
  set('--set tls not a boolean', 'redis_tls=maybe'),
  set('--set db negative', 'redis_db=-1'),
  // arguments
  { name: 'unknown flag', args: ['--bogus'], exit: 2, names: '--bogus' },
  { name: 'extra argument', argv: ['add', 'module', 'redis', 'extra', '--project', '{P}'], exit: 2, names: 'argument' },
  { name: 'missing module name', argv: ['add', 'module', '--project', '{P}'], exit: 2, names: 'name' },
  { name: 'unknown module', argv: ['add', 'module', 'nosuch', '--project', '{P}'], exit: 2, names: 'nosuch' },
  { name: 'unknown framework', args: ['--framework', 'rails'], exit: 2, names: 'rails' },
  { name: '--project does not exist', argv: ['add', 'module', 'redis', '--project', '{P}/missing'], exit: 2, names: '--project' },
  { name: '--project names a file', argv: ['add', 'module', 'redis', '--project', '{P}/main.py'], exit: 2, names: 'is a file' },
  { name: 'verify-all --project names a file', argv: ['modules', 'verify-all', '--project', '{P}/main.py'], exit: 2, names: 'is a file' },
  { name: 'verify-all --project does not exist', argv: ['modules', 'verify-all', '--project', '{P}/nope'], exit: 2, names: '--project' },
  { name: 'lock --project names a file', argv: ['modules', 'lock', '--project', '{P}/main.py'], exit: 2, names: 'is a file' },
  { name: 'lock: unknown flag', argv: ['modules', 'lock', '--project', '{P}', '--bogus'], exit: 2, names: '--bogus' },
  { name: 'extra snippet: a folder', env: { [EXTRA]: 'app' }, exit: 2, names: `${EXTRA}: 'app' is a folder` },
  { name: 'extra snippet: missing', env: { [EXTRA]: 'nope.txt' }, exit: 2, names: EXTRA },
  { name: 'extra snippet: DEST outside', env: { [EXTRA]: 'main.py', [`${EXTRA}_DEST`]: '../x.py' }, exit: 2, names: `${EXTRA}_DEST` },
  { name: 'extra snippet: DEST alone', env: { [`${EXTRA}_DEST`]: 'x.py' }, exit: 2, names: `${EXTRA}_DEST` },
  {
    name: 'extra snippet: VARIANTS not JSON',
    env: { [EXTRA]: 'main.py', [`${EXTRA}_VARIANTS`]: '[x' },
    exit: 2,
    names: `${EXTRA}_VARIANTS`,
  },
  // links: outside the project or dangling, on the way or the target itself
  link('app/ links outside', 'app', (o) => o),
  link('.rapidkit links outside', '.rapidkit', (o) => o),
  link('.rapidkit/vendor links outside', '.rapidkit/vendor', (o) => o),
  link('docker-compose.yml dangling', 'docker-compose.yml', () => '/nonexistent/compose.yml'),
  link('README.md links outside', 'README.md', (o) => {
    fs.writeFileSync(path.join(o, 'README.md'), '# outside\n');
    return path.join(o, 'README.md');
  }),
  link('main.py links outside', 'main.py', (o, d) => {
    fs.copyFileSync(path.join(d, 'main.py'), path.join(o, 'main.py'));
    return path.join(o, 'main.py');
  }),
  link('app/ dangling', 'app', () => 'no-such-folder'),
  link('relative link climbing out', '.env.example', () => '../../../../etc/hosts-copy'),
  // modes: a folder gen may not write (a real EACCES; as root, gen runs as nobody)
  { name: 'project folder not writable', readOnly: '.', exit: 1, names: 'could not write .rapidkit', code: 'WRITE_FAILED' },
  {
    name: 'app/ not writable (fails inside the rename phase)',
    readOnly: 'app',
    exit: 1,
    names: 'app/redis_cache.py',
    code: 'WRITE_FAILED',
  },
  {
    name: '.rapidkit is a file',
    setup: (d) => fs.writeFileSync(path.join(d, '.rapidkit'), 'x\n'),
    exit: 2,
    names: '.rapidkit is a file',
    code: 'UNSAFE_PATH',
  },
  // module.yaml (the tiny fixture module)
  yaml('module.yaml: unknown variable type', (t) => t.replace('type: integer', 'type: int'), 'variables.retries'),
  yaml('module.yaml: version not semver', (t) => t.replace('version: 1.0.0', 'version: one'), 'version'),
  yaml('module.yaml: default out of its range', (t) => t.replace('default: 2', 'default: 99'), 'retries'),
  yaml('module.yaml: snippet target outside', (t) => t.replace('target: README.md', 'target: ../README.md'), 'target'),
  yaml('module.yaml: wrapper path absolute', (t) => t.replace('path: src/tiny.js', 'path: /tmp/tiny.js'), 'path'),
  yaml('module.yaml: not YAML', (t) => `${t}\n  : : [`, 'module.yaml'),
  yaml('module.yaml: CRLF with a tab indent', (t) => t.replace(/\n/g, '\r\n').replace('  greeting:', '\tgreeting:'), 'module.yaml'),
];

const ISROOT = process.getuid?.() === 0;

async function run(c: Case, dir: string, json: boolean, cat: string | null) {
  const base = c.argv ?? ['add', 'module', cat ? 'tiny' : 'redis', '--project', '{P}', ...(c.args ?? [])];
  const args = [...base.map((a) => a.replace('{P}', dir)), ...(json ? ['--json'] : [])];
  const extraEnv = { ...c.env, ...(cat ? { GEN_CATALOGUE: cat } : {}) };
  if (!c.readOnly) return runGen(args, { env: extraEnv, cwd: dir });
  // a real permission error: the folder is not writable (root runs gen without the capabilities that bypass modes)
  const ro = path.join(dir, c.readOnly);
  const cmd = ISROOT ? 'setpriv' : 'node';
  const argv = ISROOT ? ['--bounding-set=-dac_override,-dac_read_search,-fowner', 'node', GEN, ...args] : [GEN, ...args];
  fs.chmodSync(ro, 0o555);
  try {
    const env: Record<string, string | undefined> = { ...process.env, CI: undefined, ...extraEnv };
    for (const k of Object.keys(env)) if (k.startsWith('RAPIDKIT_') && !(k in extraEnv)) delete env[k];
    const r = await execa(cmd, argv, { cwd: dir, env, extendEnv: false, reject: false, stdin: 'ignore' });
    return { code: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
  } finally {
    fs.chmodSync(ro, 0o755);
  }
}

test('the table holds at least 60 bad inputs', () => expect(CASES.length).toBeGreaterThanOrEqual(60));

describe.concurrent.each(CASES)('$name', (c) => {
  test.each([false, true])('--json %s: refused, named, remedy given, tree unchanged', async (json) => {
    const outside = tempDir('bad-outside');
    let cat: string | null = null;
    let dir: string;
    if (c.moduleYaml) {
      cat = tempDir('bad-cat');
      fs.cpSync(path.join(REPO, 'test/fixtures/catalogue'), cat, { recursive: true });
      const file = path.join(cat, 'modules/tiny/module.yaml');
      fs.writeFileSync(file, c.moduleYaml(fs.readFileSync(file, 'utf8')));
      dir = tinyProject('bad-tiny');
    } else dir = copyExample('fastapi', 'bad');
    c.setup?.(dir, outside);
    const before = shaListing(dir);
    const outsideBefore = shaListing(outside);
    const r = await run(c, dir, json, cat);
    const out = `${r.stdout}\n${r.stderr}`;
    expect(r.code, out).toBe(c.exit);
    if (json) {
      const body = JSON.parse(r.stdout);
      expect(body.exitCode).toBe(c.exit);
      expect(body.error).toContain(c.names);
      expect(body.hint, out).toMatch(/\S{3}/);
      if (c.code) expect(body.code).toBe(c.code);
    } else {
      expect(r.stderr).toContain(c.names);
      expect(r.stderr, out).toMatch(/hint: \S|Usage: /);
      expect(r.stdout).toBe('');
    }
    if (c.secret) expect(out).not.toContain(c.secret);
    expect(shaListing(dir)).toEqual(before);
    expect(shaListing(outside)).toEqual(outsideBefore);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(outside, { recursive: true, force: true });
    if (cat) fs.rmSync(cat, { recursive: true, force: true });
  });
});
