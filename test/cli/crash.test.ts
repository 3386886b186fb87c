// kill -9 at random instants over the whole run of `gen add`, `gen upgrade` and `gen remove`: the next gen command
// recovers the project to exactly the tree before or the tree after, with nothing left over; a clean re-run then
// works and verify-all is green.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';
import { copyExample, GEN, REPO, runGen, shaListing, tempDir } from '../helpers.js';

const KILLS = 105;
const PARALLEL = 6;
/** Test hook (flush.ts): a pause after the journal and after each rename, so kills land inside the rename phase. */
const PAUSE_MS = 10;
const ENV = { RAPIDKIT_REDIS_PROJECT_NAME: 'crash-shop', RAPIDKIT_REDIS_FORCE_PASSWORD: 'crash-secret-pw' };

function project(label: string): string {
  const dir = copyExample('nestjs', label);
  fs.writeFileSync(path.join(dir, '.env'), 'EXISTING=1\n');
  fs.chmodSync(path.join(dir, '.env'), 0o640);
  return dir;
}

type Phase = 'run' | 'staging' | 'committed';

/**
 * Starts `gen add` and kills it with SIGKILL `delay` ms after the instant `phase` begins: the start of the process
 * (run), the start of the staging, or the commit point (the hook's stderr lines say when those come).
 */
function addKilled(dir: string, phase: Phase, delay: number): Promise<{ killed: boolean; ms: number }> {
  return genKilled(['add', 'module', 'redis'], dir, phase, delay);
}

function genKilled(args: string[], dir: string, phase: Phase, delay: number): Promise<{ killed: boolean; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn('node', [GEN, ...args, '--project', dir], {
      env: { ...process.env, CI: 'true', ...ENV, GEN_PAUSE_MS: String(PAUSE_MS) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let timer: NodeJS.Timeout | undefined;
    const arm = () => (timer = setTimeout(() => child.kill('SIGKILL'), delay));
    if (phase === 'run') arm();
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (timer === undefined && err.includes(`gen-test: ${phase}`)) arm();
    });
    child.once('error', reject);
    child.once('exit', (_code, signal) => {
      clearTimeout(timer);
      resolve({ killed: signal === 'SIGKILL', ms: Date.now() - t0 });
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
  const full = await addKilled(ref, 'run', 120_000);
  expect(full.killed).toBe(false);
  const after = shaListing(ref);
  expect(after).not.toEqual(before);
  expect(after['.env']).toMatch(/ 640$/); // an existing .env keeps its mode
  const refVerify = await runGen(['modules', 'verify-all', '--project', ref], { env: ENV });
  expect(refVerify.code, refVerify.stdout + refVerify.stderr).toBe(0);
  const renames = Object.keys(after).filter((p) => !p.endsWith('/') && after[p] !== before[p]).length;

  // a third of the instants anywhere in the run, a third inside the staging, a third inside the rename phase
  const phases: Phase[] = ['run', 'staging', 'committed'];
  const window: Record<Phase, number> = { run: full.ms * 1.1, staging: 40, committed: (renames + 1) * PAUSE_MS * 1.2 };
  const cases = Array.from({ length: KILLS }, (_, i) => {
    const phase = phases[i % 3]!;
    return { i, phase, delay: Math.floor(Math.random() * window[phase]) };
  });
  const outcomes = { before: 0, after: 0, rolledForward: 0, discarded: 0, finished: 0 };
  for (let b = 0; b < cases.length; b += PARALLEL) {
    await Promise.all(
      cases.slice(b, b + PARALLEL).map(async ({ i, phase, delay }) => {
        const dir = project(`crash-${i}`);
        const { killed } = await addKilled(dir, phase, delay);
        if (!killed) outcomes.finished++;
        // the next gen command (one that only reads) recovers first
        const next = await runGen(['modules', 'verify-all', '--project', dir], { env: ENV });
        if (next.stderr.includes('rolled it forward')) outcomes.rolledForward++;
        if (next.stderr.includes('before changing anything')) outcomes.discarded++;
        const now = JSON.stringify(shaListing(dir));
        const which = now === JSON.stringify(before) ? 'before' : now === JSON.stringify(after) ? 'after' : 'neither';
        expect(which, `kill ${delay} ms after ${phase}: ${next.stderr}\n${now}`).not.toBe('neither');
        outcomes[which as 'before' | 'after']++;
        expect(leftovers(dir)).toEqual([]);
        expect(next.stdout + next.stderr).not.toContain(ENV.RAPIDKIT_REDIS_FORCE_PASSWORD);
        // a clean re-run ends at exactly the tree of a complete run (so verify-all is as green as it is on `ref`;
        // it is also run here on every fifth case)
        const rerun = await runGen(['add', 'module', 'redis', '--project', dir], { env: ENV });
        expect(rerun.code, rerun.stderr).toBe(0);
        expect(shaListing(dir)).toEqual(after);
        if (i % 5 === 0) {
          const verify = await runGen(['modules', 'verify-all', '--project', dir], { env: ENV });
          expect(verify.code, verify.stdout + verify.stderr).toBe(0);
        }
        fs.rmSync(dir, { recursive: true, force: true });
      }),
    );
  }
  // the instants were spread over the whole run: before the commit point and inside the rename phase both hit
  const seen = JSON.stringify(outcomes);
  expect(outcomes.before, seen).toBeGreaterThan(10);
  expect(outcomes.discarded, seen).toBeGreaterThan(5);
  expect(outcomes.rolledForward, seen).toBeGreaterThan(10);
  console.log(`kill -9 outcomes: ${seen} (a full run takes ${full.ms} ms)`);
  fs.rmSync(base, { recursive: true, force: true });
  fs.rmSync(ref, { recursive: true, force: true });
}, 300_000);

/**
 * The same for the other writing commands, fewer instants each: `prepare` makes a project in the state before,
 * `rerun` is the command that completes it (null when the tree after needs none).
 */
async function killedRuns(
  label: string,
  args: string[],
  prepare: (label: string) => Promise<string>,
  kills: number,
): Promise<Record<string, number>> {
  const base = await prepare(`${label}-base`);
  const before = shaListing(base);
  const ref = await prepare(`${label}-ref`);
  const full = await genKilled(args, ref, 'run', 120_000);
  expect(full.killed).toBe(false);
  const after = shaListing(ref);
  expect(after).not.toEqual(before);
  const changed = new Set([...Object.keys(before), ...Object.keys(after)].filter((p) => before[p] !== after[p])).size;
  const phases: Phase[] = ['run', 'staging', 'committed'];
  const window: Record<Phase, number> = { run: full.ms * 1.1, staging: 40, committed: (changed + 1) * PAUSE_MS * 1.2 };
  const outcomes = { before: 0, after: 0, rolledForward: 0, discarded: 0 };
  const cases = Array.from({ length: kills }, (_, i) => ({
    i,
    phase: phases[i % 3]!,
    delay: Math.floor(Math.random() * window[phases[i % 3]!]),
  }));
  for (let b = 0; b < cases.length; b += PARALLEL) {
    await Promise.all(
      cases.slice(b, b + PARALLEL).map(async ({ i, phase, delay }) => {
        const dir = await prepare(`${label}-${i}`);
        await genKilled(args, dir, phase, delay);
        const next = await runGen(['modules', 'verify-all', '--project', dir], { env: ENV });
        if (next.stderr.includes('rolled it forward')) outcomes.rolledForward++;
        if (next.stderr.includes('before changing anything')) outcomes.discarded++;
        const now = JSON.stringify(shaListing(dir));
        const which = now === JSON.stringify(before) ? 'before' : now === JSON.stringify(after) ? 'after' : 'neither';
        expect(which, `${args.join(' ')} killed ${delay} ms after ${phase}: ${next.stderr}\n${now}`).not.toBe('neither');
        outcomes[which as 'before' | 'after']++;
        expect(leftovers(dir)).toEqual([]);
        if (which === 'before') {
          const rerun = await runGen([...args, '--project', dir, '--yes'], { env: ENV });
          expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0);
          expect(shaListing(dir)).toEqual(after);
        }
        fs.rmSync(dir, { recursive: true, force: true });
      }),
    );
  }
  const seen = JSON.stringify(outcomes);
  expect(outcomes.before, seen).toBeGreaterThan(3);
  expect(outcomes.rolledForward, seen).toBeGreaterThan(3);
  fs.rmSync(base, { recursive: true, force: true });
  fs.rmSync(ref, { recursive: true, force: true });
  return outcomes;
}

test('kill -9 at random instants of gen upgrade (1.0.0 → current, with edits to merge): before or after, nothing left over', async () => {
  const prepare = async (label: string) => {
    const dir = tempDir(label);
    fs.cpSync(path.join(REPO, 'test/fixtures/redis-1.0.0/nestjs'), dir, { recursive: true });
    fs.appendFileSync(path.join(dir, 'src/redis/index.ts'), "\nexport const CACHE_OWNER = 'team-shop';\n");
    return dir;
  };
  const outcomes = await killedRuns('crash-up', ['upgrade', 'module', 'redis'], prepare, 36);
  console.log(`kill -9 outcomes (upgrade): ${JSON.stringify(outcomes)}`);
}, 300_000);

test('kill -9 at random instants of gen remove: before or after, nothing left over', async () => {
  const prepare = async (label: string) => {
    const dir = project(label);
    const r = await runGen(['add', 'module', 'redis', '--project', dir], { env: ENV });
    expect(r.code, r.stderr).toBe(0);
    return dir;
  };
  const outcomes = await killedRuns('crash-rm', ['remove', 'module', 'redis'], prepare, 36);
  console.log(`kill -9 outcomes (remove): ${JSON.stringify(outcomes)}`);
}, 300_000);
