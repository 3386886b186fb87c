// Shared by the Node runtime suites: projects generated from examples/<fw> by the real CLI, compiled with the real
// TypeScript compiler, and started as real processes.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeEach, expect } from 'vitest';
import { REPO, copyExample, runGen } from '../helpers/cli.js';
import { freePort } from '../helpers/redis-server.js';

export const requireCjs = createRequire(import.meta.url);
export const TSC = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
export const SNAP = '.rapidkit/vendor/redis/1.0.0/node';
export const VECTORS = JSON.parse(fs.readFileSync(path.join(REPO, 'test/vectors/cache-contract.json'), 'utf8'));
export const ENTRY = { nestjs: 'main.js', fastify: 'server.js' } as const;
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

/** Starts `node <entry>` in the project (what `npm start` runs) and waits until it answers HTTP. */
export async function startApp(project: string, entry: string, env: Record<string, string>, probe = '/stats'): Promise<App> {
  const port = await freePort();
  let out = '';
  const proc = spawn(process.execPath, [path.join(project, entry)], { cwd: project, env: { ...process.env, PORT: String(port), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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
      await fetch(`http://127.0.0.1:${port}${probe}`, { signal: AbortSignal.timeout(2000) });
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
export function runToExit(project: string, entry: string, env: Record<string, string>, timeoutMs = 20_000): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    let out = '';
    const proc = spawn(process.execPath, [path.join(project, entry)], { cwd: project, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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
