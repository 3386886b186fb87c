// The one test helper module: the built CLI on temp folders, real redis-server processes on loopback, projects
// generated from examples/<fw> (compiled with the real tsc, started as real processes) and the tiny fixture catalogue.
import { createHash } from 'node:crypto';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type Options } from 'execa';
import { afterAll, beforeEach, expect } from 'vitest';
import { verifyReportSchema } from '../src/check/reports.js';
import { copyExample as copyFromExamples } from '../scripts/examples.mjs';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const GEN = path.join(REPO, 'bin', 'gen.cjs');
export const TMP = path.join(REPO, '.tmp');

/** A fresh folder under <repo>/.tmp (inside the repo so Node finds the repo's node_modules). */
export function tempDir(label: string): string {
  fs.mkdirSync(TMP, { recursive: true });
  return fs.mkdtempSync(path.join(TMP, `${label}-`));
}

/** Copies examples/<name> (without build outputs) into a temp folder and returns its path. */
export function copyExample(name: string, label = name): string {
  const dest = tempDir(label);
  copyFromExamples(name, dest);
  return dest;
}

/** Runs the built CLI: never a TTY, no stdin, CI unset unless given. */
export async function runGen(args: string[], opts: { env?: Record<string, string | undefined>; cwd?: string } = {}) {
  const env: Record<string, string | undefined> = { ...process.env, CI: undefined, ...opts.env };
  for (const k of Object.keys(env)) if (k.startsWith('RAPIDKIT_') && !(opts.env && k in opts.env)) delete env[k];
  const res = await execa('node', [GEN, ...args], {
    cwd: opts.cwd ?? REPO,
    env,
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    timeout: 60_000,
  } as Options);
  return { code: res.exitCode ?? -1, stdout: String(res.stdout), stderr: String(res.stderr) };
}

export async function addJson(project: string, extra: string[] = [], env: Record<string, string | undefined> = {}) {
  const r = await runGen(['add', 'module', 'redis', '--project', project, '--json', ...extra], { env });
  let json: any = null;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    /* leave null: the assertion shows stdout */
  }
  return { ...r, json };
}

export interface TreeEntry {
  sha: string;
  mtimeMs: number;
}

/** Every file below dir with its sha256 and mtime (for "nothing was written" checks). */
export function snapshotTree(dir: string): Map<string, TreeEntry> {
  const out = new Map<string, TreeEntry>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() || e.isSymbolicLink()) {
        const st = fs.lstatSync(p);
        const sha = e.isFile() ? createHash('sha256').update(fs.readFileSync(p)).digest('hex') : `link:${fs.readlinkSync(p)}`;
        out.set(path.relative(dir, p), { sha, mtimeMs: st.mtimeMs });
      }
    }
  };
  walk(dir);
  return out;
}

/** Every file (and link) below dir, relative POSIX paths, sorted; under `sub` (kept as their prefix) when given. */
export function listAll(dir: string, sub = ''): string[] {
  const out: string[] = [];
  const walk = (abs: string, rel: string) => {
    for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(abs, e.name), r);
      else out.push(r);
    }
  };
  if (fs.existsSync(path.join(dir, sub))) walk(path.join(dir, sub), sub.split(path.sep).join('/'));
  return out.sort();
}

// ---- real redis-server processes

/** A free TCP port on 127.0.0.1. */
/**
 * TLS material made with openssl in `dir` (2-day validity): each CA self-signed (`<ca>.crt`, `<ca>.key`), then each
 * certificate (`<name>.crt`, `<name>.key`) signed by its CA, with the subjectAltName given (none: a client's).
 */
export function makeCerts(dir: string, cas: string[], certs: Array<{ name: string; ca: string; san?: string; cn?: string }>): void {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  for (const ca of cas)
    ssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=gen-${ca}`,
      '-keyout',
      `${ca}.key`,
      '-out',
      `${ca}.crt`,
    );
  for (const c of certs) {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${c.cn ?? c.name}`, '-keyout', `${c.name}.key`, '-out', `${c.name}.csr`);
    const ext: string[] = [];
    if (c.san) {
      fs.writeFileSync(path.join(dir, `${c.name}.cnf`), `subjectAltName=${c.san}\n`);
      ext.push('-extfile', `${c.name}.cnf`);
    }
    ssl(
      'x509',
      '-req',
      '-in',
      `${c.name}.csr`,
      '-CA',
      `${c.ca}.crt`,
      '-CAkey',
      `${c.ca}.key`,
      '-CAcreateserial',
      '-days',
      '2',
      ...ext,
      '-out',
      `${c.name}.crt`,
    );
  }
}

/**
 * ioredis listens to a connection's errors with `once`: the runtime must keep a second error on the same socket from
 * becoming an uncaught exception. Emits two on `conn`'s live socket (the connection that serves `key`, holding `value`
 * as the cache stores it), then checks nothing escaped and the cache serves `key` again on a new connection.
 */
export async function expectSecondSocketErrorContained(cache: any, conn: any, key: string, value: unknown): Promise<void> {
  const stream = conn.stream;
  const uncaught: unknown[] = [];
  const record = (err: unknown) => uncaught.push(err);
  process.on('uncaughtException', record);
  try {
    // what a TLS master refusing the client did in CI: the handshake failure, then the server's alert on the same socket
    expect(() => stream.emit('error', new Error('self-signed certificate in certificate chain'))).not.toThrow();
    expect(() => stream.emit('error', new Error('tlsv1 alert decode error'))).not.toThrow();
    stream.destroy();
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && (await cache.get(key)) !== value) await sleep(100);
    expect(await cache.get(key)).toBe(value); // served again on a new connection
  } finally {
    process.off('uncaughtException', record);
  }
  expect(uncaught).toEqual([]);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** A real redis-server on loopback: random port, no persistence, temp --dir; stopped by pid. */
export class RedisServer {
  port = 0;
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gen-redis-'));
  private proc: ChildProcess | null = null;

  constructor(
    private readonly extra: string[] = [],
    port?: number,
  ) {
    if (port) this.port = port;
  }

  async start(): Promise<this> {
    if (!this.port) this.port = await freePort();
    const args = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir];
    args.push(...(this.extra.includes('--port') ? this.extra : ['--port', String(this.port), ...this.extra]));
    this.proc = spawn('redis-server', args, { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (await canConnect(this.port)) return this;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('redis-server did not start');
  }

  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGCONT'); // a paused server cannot handle SIGTERM
      p.kill('SIGTERM');
      setTimeout(() => p.kill('SIGKILL'), 5000).unref();
    });
  }

  /** The server's pid (null when stopped). */
  get pid(): number | null {
    return this.proc && this.proc.exitCode === null && this.proc.signalCode === null ? (this.proc.pid ?? null) : null;
  }

  /** SIGSTOP: the server keeps its sockets open but answers nothing (a stalled Redis, not a dead one). */
  pause(): void {
    this.proc?.kill('SIGSTOP');
  }

  /** SIGCONT after pause(). */
  resume(): void {
    this.proc?.kill('SIGCONT');
  }

  async cleanup(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}/0`;
  }
}

// ---- the tiny fixture catalogue (lock/verify/vet tests)

export const LOCK = '.rapidkit/modules.lock.yaml';
export const TINY_SNAP = '.rapidkit/vendor/tiny/1.0.0';

/**
 * A writable copy of test/fixtures/catalogue with tiny 1.0.0 recorded (as a released version); `catalogue-v2` holds
 * tiny 1.1.0, the upgrade target.
 */
export async function tinyCatalogue(record = true, fixture: 'catalogue' | 'catalogue-v2' = 'catalogue'): Promise<string> {
  const cat = tempDir('tiny-cat');
  fs.cpSync(path.join(REPO, 'test/fixtures', fixture), cat, { recursive: true });
  if (record) {
    const r = await runGen(['modules', 'vet', 'tiny', '--record'], { env: { GEN_CATALOGUE: cat } });
    expect(r.code, r.stdout + r.stderr).toBe(0);
  }
  return cat;
}

/** An empty project that detects as the fixture's `plain` framework. */
export function tinyProject(label = 'tiny'): string {
  const dir = tempDir(label);
  fs.writeFileSync(path.join(dir, 'tiny.txt'), 'tiny\n');
  return dir;
}

export function gen(cat: string, args: string[], env: Record<string, string | undefined> = {}) {
  return runGen(args, { env: { GEN_CATALOGUE: cat, ...env } });
}

export async function addTiny(cat: string, project: string, env: Record<string, string | undefined> = {}, extra: string[] = []) {
  const r = await gen(cat, ['add', 'module', 'tiny', '--project', project, '--yes', ...extra], env);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return r;
}

/** verify-all --json, validated against the documented schema. */
export async function verifyJson(cat: string, project: string, extra: string[] = []) {
  const r = await gen(cat, ['modules', 'verify-all', '--project', project, '--json', ...extra]);
  return { ...r, report: verifyReportSchema.parse(JSON.parse(r.stdout)) };
}

// ---- generated Node projects

export const requireCjs = createRequire(import.meta.url);
export const TSC = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
/** The redis module's current version (module.yaml), so a release does not touch the tests. */
export const REDIS_VERSION = /^version:\s*(\S+)/m.exec(fs.readFileSync(path.join(REPO, 'modules/redis/module.yaml'), 'utf8'))![1]!;
/** The snapshot folder of the current redis version. */
export const REDIS_SNAP = `.rapidkit/vendor/redis/${REDIS_VERSION}`;
export const SNAP = `${REDIS_SNAP}/node`;
export const VECTORS = JSON.parse(fs.readFileSync(path.join(REPO, 'test/vectors/cache-contract.json'), 'utf8'));
export const ENTRY = { nestjs: 'main.js', fastify: 'server.js', express: 'server.js' } as const;
export type Framework = keyof typeof ENTRY;

/**
 * A copy of examples/<fw> under <repo>/.tmp with `gen add module redis` applied. GEN_TEST_IOREDIS=<dir of an
 * ioredis package> links that ioredis into the project (how the suite is re-run against ioredis 5.4 and 6).
 */
export async function generate(fw: Framework | 'fastapi', label: string): Promise<string> {
  const dir = copyExample(fw, label);
  const r = await runGen(['add', 'module', 'redis', '--project', dir, '--yes']);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  const alt = process.env.GEN_TEST_IOREDIS;
  if (alt && fw !== 'fastapi') {
    fs.mkdirSync(path.join(dir, 'node_modules'), { recursive: true });
    fs.symlinkSync(path.resolve(alt), path.join(dir, 'node_modules', 'ioredis'), 'dir');
  }
  return dir;
}

/**
 * Removes the given folders after the file's tests when all of them passed (a failure keeps them for inspection).
 * Call at the top level of a test file.
 */
export function removeAfterSuccess(dirs: () => string[]): void {
  let failed = false;
  beforeEach((ctx) => {
    ctx.onTestFailed(() => {
      failed = true;
    });
  });
  afterAll(() => {
    if (failed) return;
    for (const d of dirs()) if (d) fs.rmSync(d, { recursive: true, force: true });
  });
}

/** The real TypeScript compiler on the project's tsconfig (strict); throws with tsc's output on any error. */
export function tsc(project: string, config = 'tsconfig.json'): void {
  try {
    execFileSync(process.execPath, [TSC, '-p', path.join(project, config)], { stdio: 'pipe' });
  } catch (err: any) {
    throw new Error(`tsc -p ${config} failed in ${project}:\n${err.stdout ?? ''}${err.stderr ?? ''}`);
  }
}

/** The strictest settings a user may build with (what the generated TypeScript must pass), over the project's own. */
export const STRICTEST = {
  strict: true,
  skipLibCheck: false,
  noUncheckedIndexedAccess: true,
  exactOptionalPropertyTypes: true,
  noImplicitOverride: true,
  noImplicitReturns: true,
  noUnusedLocals: true,
  noUnusedParameters: true,
  incremental: false,
};

/** tsc on the project's tsconfig tightened to STRICTEST (tsconfig.strictest.json); emits only when asked. */
export function tscStrictest(project: string, opts: { emit?: boolean } = {}): void {
  const base = JSON.parse(fs.readFileSync(path.join(project, 'tsconfig.json'), 'utf8'));
  const compilerOptions = { ...base.compilerOptions, ...STRICTEST, ...(opts.emit ? {} : { noEmit: true }) };
  fs.writeFileSync(path.join(project, 'tsconfig.strictest.json'), JSON.stringify({ ...base, compilerOptions }));
  tsc(project, 'tsconfig.strictest.json');
}

/** The vendored runtime of a generated project, as the app loads it. */
export function runtimeOf(project: string, layer: 'core' | 'nestjs' | 'fastify' = 'core'): any {
  return requireCjs(path.join(project, SNAP, layer, 'index.js'));
}

export interface App {
  port: number;
  proc: ChildProcess;
  log: () => string;
  stop: () => Promise<void>;
}

/** Starts `node <entry>` in the project (what `npm start` runs; from `cwd`, default the project) and waits until it answers HTTP. */
export async function startApp(project: string, entry: string, env: Record<string, string>, probe = '/stats', cwd = project): Promise<App> {
  return startServer(process.execPath, [path.join(project, entry)], { cwd, env, probe });
}

/** Starts any HTTP server process with PORT set to a free port (a Python app: `python main.py`) and waits until it answers. */
export async function startServer(
  command: string,
  args: string[],
  opts: { cwd: string; env: Record<string, string>; probe?: string },
): Promise<App> {
  const port = await freePort();
  let out = '';
  const proc = spawn(command, args, {
    cwd: opts.cwd,
    env: { ...process.env, PORT: String(port), ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    try {
      await fetch(`http://127.0.0.1:${port}${opts.probe ?? '/stats'}`, { signal: AbortSignal.timeout(2000) });
      return { port, proc, log: () => out, stop };
    } catch {
      if (proc.exitCode !== null) throw new Error(`app exited with ${proc.exitCode}: ${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await stop();
  throw new Error(`app did not start: ${out}`);
}

/** Runs `node <entry>` expecting it to exit on its own; returns the exit code and output. */
export function runToExit(
  project: string,
  entry: string,
  env: Record<string, string>,
  timeoutMs = 20_000,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    let out = '';
    const proc = spawn(process.execPath, [path.join(project, entry)], {
      cwd: project,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout.on('data', (d) => (out += d));
    proc.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

export async function http(port: number, p: string, method = 'GET') {
  const started = Date.now();
  const res = await fetch(`http://127.0.0.1:${port}${p}`, { method, signal: AbortSignal.timeout(8000) });
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* Prometheus text */
  }
  return { status: res.status, body, ms: Date.now() - started };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- Python virtual environments of the test matrix

/**
 * The interpreters of the named stacks (test/stacks/python-<name>.txt), built by scripts/python-envs.sh into
 * .cache/venvs on first use and reused after: { name: path to its python }.
 */
export async function pythonEnvs(names: string[]): Promise<Record<string, string>> {
  const r = await execa('bash', [path.join(REPO, 'scripts', 'python-envs.sh'), ...names], { cwd: REPO, reject: false, timeout: 900_000 });
  if (r.exitCode !== 0) throw new Error(`scripts/python-envs.sh ${names.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return Object.fromEntries(
    String(r.stdout)
      .trim()
      .split('\n')
      .map((line) => line.split('=') as [string, string]),
  );
}

/**
 * The sha256 listing of a tree: every file and link below dir (relative POSIX path → sha256, mode and link target),
 * folders included (so a folder left behind shows). For "byte for byte as before" checks.
 */
export function shaListing(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (abs: string, rel: string) => {
    for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
      const p = path.join(abs, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      const st = fs.lstatSync(p);
      const mode = (st.mode & 0o7777).toString(8);
      if (e.isSymbolicLink()) out[r] = `link ${fs.readlinkSync(p)}`;
      else if (e.isDirectory()) {
        out[`${r}/`] = `dir ${mode}`;
        walk(p, r);
      } else out[r] = `${createHash('sha256').update(fs.readFileSync(p)).digest('hex')} ${mode}`;
    }
  };
  walk(dir, '');
  return out;
}
