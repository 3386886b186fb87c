// kill -9 at random instants over the whole run of `gen add`: the next gen command recovers the project to exactly
// the tree before or the tree after, with nothing left over; a clean re-run then works and verify-all is green.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';
import { copyExample, GEN, runGen, shaListing } from '../helpers.js';

const KILLS = 104;
const PARALLEL = 8;
/** Test hook (flush.ts): a pause after the journal and after each rename, so kills land inside the rename phase. */
const PAUSE_MS = '12';
const ENV = { RAPIDKIT_REDIS_PROJECT_NAME: 'crash-shop', RAPIDKIT_REDIS_FORCE_PASSWORD: 'crash-secret-pw' };

function project(label: string): string {
  const dir = copyExample('nestjs', label);
  fs.writeFileSync(path.join(dir, '.env'), 'EXISTING=1\n', { mode: 0o640 });
  fs.chmodSync(path.join(dir, '.env'), 0o640);
  return dir;
}

/** Starts `gen add` and kills it with SIGKILL after `delay` ms (or lets it finish first). */
function addKilledAfter(dir: string, delay: number): Promise<{ killed: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn('node', [GEN, 'add', 'module', 'redis', '--project', dir], {
      env: { ...process.env, CI: 'true', ...ENV, GEN_PAUSE_MS: PAUSE_MS },
      stdio: 'ignore',
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), delay);
    child.once('error', reject);
    child.once('exit', (_code, signal) => {
      clearTimeout(timer);
      resolve({ killed: signal === 'SIGKILL' });
    });
  });
}

function leftovers(dir: string): string[] {
  return Object.keys(shaListing(dir)).filter((p) => /(^|\/)(txn|\.gen-staging|.*\.gen-restore)/.test(p));
}

test(`kill -9 at ${KILLS} random instants of gen add: the next command restores before or after, nothing left over`, async () => {
  const base = project('crash-base');
  const before = shaListing(base);
  // the tree after a complete run, and how long a run takes with the pauses
  const ref = project('crash-ref');
  const t0 = Date.now();
  const done = await addKilledAfter(ref, 60_000);
  const duration = Date.now() - t0;
  expect(done.killed).toBe(false);
  const after = shaListing(ref);
  expect(after).not.toEqual(before);
  expect(after['.env']).toMatch(/ 640$/); // an existing .env keeps its mode

  const outcomes = { before: 0, after: 0, rolledForward: 0, discarded: 0, finished: 0 };
  const cases = Array.from({ length: KILLS }, (_, i) => ({ i, delay: Math.floor(Math.random() * duration * 1.05) }));
  for (let b = 0; b < cases.length; b += PARALLEL) {
    await Promise.all(
      cases.slice(b, b + PARALLEL).map(async ({ i, delay }) => {
        const dir = project(`crash-${i}`);
        const { killed } = await addKilledAfter(dir, delay);
        if (!killed) outcomes.finished++;
        // the next gen command (one that only reads) recovers first
        const next = await runGen(['modules', 'verify-all', '--project', dir], { env: ENV });
        if (next.stderr.includes('rolled it forward')) outcomes.rolledForward++;
        if (next.stderr.includes('before changing anything')) outcomes.discarded++;
        const now = shaListing(dir);
        const same = JSON.stringify(now);
        const which = same === JSON.stringify(before) ? 'before' : same === JSON.stringify(after) ? 'after' : 'neither';
        expect(which, `kill after ${delay} ms: ${next.stderr}\n${JSON.stringify(now, null, 1)}`).not.toBe('neither');
        outcomes[which as 'before' | 'after']++;
        expect(leftovers(dir)).toEqual([]);
        expect(next.stdout + next.stderr).not.toContain(ENV.RAPIDKIT_REDIS_FORCE_PASSWORD);
        // a clean re-run ends at the full result, and verify-all is green
        const rerun = await runGen(['add', 'module', 'redis', '--project', dir], { env: ENV });
        expect(rerun.code, rerun.stderr).toBe(0);
        expect(shaListing(dir)).toEqual(after);
        const verify = await runGen(['modules', 'verify-all', '--project', dir], { env: ENV });
        expect(verify.code, verify.stdout + verify.stderr).toBe(0);
        fs.rmSync(dir, { recursive: true, force: true });
      }),
    );
  }
  // the instants were spread over the whole run: kills before the commit point and inside the rename phase both hit
  expect(outcomes.before, JSON.stringify(outcomes)).toBeGreaterThan(10);
  expect(outcomes.rolledForward, JSON.stringify(outcomes)).toBeGreaterThan(10);
  expect(outcomes.after, JSON.stringify(outcomes)).toBeGreaterThan(10);
  console.log(`kill -9 outcomes: ${JSON.stringify(outcomes)} (a run takes ${duration} ms)`);
  fs.rmSync(base, { recursive: true, force: true });
  fs.rmSync(ref, { recursive: true, force: true });
}, 300_000);
