import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { verifyReportSchema } from '../../src/lock/schema.js';
import { REPO, runGen, tempDir } from '../helpers/cli.js';

export const LOCK = '.rapidkit/modules.lock.yaml';
export const TINY_SNAP = '.rapidkit/vendor/tiny/1.0.0';

/** A writable copy of test/fixtures/catalogue with tiny 1.0.0 recorded (as a released version). */
export async function tinyCatalogue(record = true): Promise<string> {
  const cat = tempDir('tiny-cat');
  fs.cpSync(path.join(REPO, 'test/fixtures/catalogue'), cat, { recursive: true });
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
