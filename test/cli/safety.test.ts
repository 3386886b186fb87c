// The write path's guarantees end to end: staging and journal 0600 inside .rapidkit/txn, a live transaction locks
// the project, recovery after kill -9 says so, .env 0600, links inside the project followed, CRLF kept, and the
// spinner never loops on a 0×0 terminal nor colours under NO_COLOR.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';
import { copyExample, GEN, runGen, shaListing } from '../helpers.js';

const PW = 'safety-secret-pw';

test('staging and journal are 0600 in a 0700 .rapidkit/txn; a live transaction locks the project; kill -9 is recovered', async () => {
  const dir = copyExample('fastapi', 'txn');
  const child = spawn('node', [GEN, 'add', 'module', 'redis', '--project', dir], {
    env: { ...process.env, CI: 'true', RAPIDKIT_REDIS_FORCE_PASSWORD: PW, GEN_PAUSE_MS: '400' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  await new Promise<void>((resolve) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('gen-test: committed')) resolve();
    });
  });
  const txn = path.join(dir, '.rapidkit/txn');
  expect(fs.statSync(txn).mode & 0o777).toBe(0o700);
  const staged = fs.readdirSync(txn);
  expect(staged).toContain('journal.json');
  for (const f of staged) expect(fs.statSync(path.join(txn, f)).mode & 0o777, f).toBe(0o600);
  // the staged .env holds the password: only its owner may read it
  expect(staged.some((f) => fs.readFileSync(path.join(txn, f), 'utf8').includes(PW))).toBe(true);
  // while that gen runs, another one refuses to touch the project
  const busy = await runGen(['modules', 'verify-all', '--project', dir, '--json']);
  expect(busy.code).toBe(1);
  expect(JSON.parse(busy.stdout)).toMatchObject({ code: 'LOCKED' });
  expect(busy.stdout).toContain(`pid ${child.pid}`);
  child.kill('SIGKILL');
  await exited;
  // a dead owner whose pid a newer process got is not a live owner: the owner mark holds the process start time too
  const owner = fs.readFileSync(path.join(txn, 'owner'), 'utf8');
  expect(owner).toMatch(new RegExp(`^${child.pid} \\d+$`));
  const squatter = spawn('sleep', ['30'], { stdio: 'ignore' });
  fs.chmodSync(path.join(txn, 'owner'), 0o600);
  fs.writeFileSync(path.join(txn, 'owner'), `${squatter.pid} 1`);
  try {
    const next = await runGen(['modules', 'verify-all', '--project', dir]);
    expect(next.stderr).toMatch(/interrupted after its commit point; rolled it forward/);
    expect(next.code, next.stdout + next.stderr).toBe(0);
  } finally {
    squatter.kill('SIGKILL');
  }
  const next = await runGen(['modules', 'verify-all', '--project', dir]);
  expect(next.code, next.stdout + next.stderr).toBe(0);
  expect(fs.existsSync(txn)).toBe(false);
  expect(fs.statSync(path.join(dir, '.env')).mode & 0o777).toBe(0o600);
  expect(JSON.stringify(shaListing(dir))).not.toContain('txn');
});

test('.env is created 0600; an existing .env keeps its mode', async () => {
  const fresh = copyExample('fastapi', 'env-new');
  expect((await runGen(['add', 'module', 'redis', '--project', fresh], { env: { RAPIDKIT_REDIS_FORCE_PASSWORD: PW } })).code).toBe(0);
  expect(fs.statSync(path.join(fresh, '.env')).mode & 0o777).toBe(0o600);
  const kept = copyExample('fastapi', 'env-kept');
  fs.writeFileSync(path.join(kept, '.env'), 'A=1\n');
  fs.chmodSync(path.join(kept, '.env'), 0o644);
  expect((await runGen(['add', 'module', 'redis', '--project', kept], { env: { RAPIDKIT_REDIS_FORCE_PASSWORD: PW } })).code).toBe(0);
  expect(fs.statSync(path.join(kept, '.env')).mode & 0o777).toBe(0o644);
  expect(fs.readFileSync(path.join(kept, '.env'), 'utf8')).toContain(PW);
});

test('links that stay inside the project are followed: gen writes the file they lead to and keeps the link', async () => {
  const dir = copyExample('fastapi', 'inside-link');
  fs.mkdirSync(path.join(dir, 'docs'));
  fs.renameSync(path.join(dir, 'README.md'), path.join(dir, 'docs/README.md'));
  fs.symlinkSync('docs/README.md', path.join(dir, 'README.md'));
  fs.renameSync(path.join(dir, 'app'), path.join(dir, 'src-app'));
  fs.symlinkSync('src-app', path.join(dir, 'app'));
  const r = await runGen(['add', 'module', 'redis', '--project', dir]);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  expect(fs.readlinkSync(path.join(dir, 'README.md'))).toBe('docs/README.md');
  expect(fs.readFileSync(path.join(dir, 'docs/README.md'), 'utf8')).toContain('gen:redis:readme');
  expect(fs.readlinkSync(path.join(dir, 'app'))).toBe('src-app');
  expect(fs.readdirSync(path.join(dir, 'src-app'))).toContain('redis_cache.py');
  const v = await runGen(['modules', 'verify-all', '--project', dir]);
  expect(v.code, v.stdout + v.stderr).toBe(0);
  const again = await runGen(['add', 'module', 'redis', '--project', dir, '--json']);
  expect(new Set(JSON.parse(again.stdout).files.map((f: any) => f.action))).toEqual(new Set(['unchanged']));
});

test('a CRLF package.json and CRLF snippet hosts come back CRLF', async () => {
  const dir = copyExample('nestjs', 'crlf');
  for (const f of ['package.json', 'README.md'])
    fs.writeFileSync(path.join(dir, f), fs.readFileSync(path.join(dir, f), 'utf8').replace(/\r?\n/g, '\r\n'));
  const r = await runGen(['add', 'module', 'redis', '--project', dir]);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  for (const f of ['package.json', 'README.md']) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    expect(text, f).toMatch(/\r\n$/);
    expect(text.replace(/\r\n/g, ''), f).not.toContain('\n');
  }
  expect(JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).dependencies.ioredis).toBeTruthy();
});

/** gen add under a real pseudo-terminal of the given size (util-linux script), with the given environment. */
function onTerminal(dir: string, size: string, env: Record<string, string>): { out: string; ms: number } {
  const t0 = Date.now();
  const cmd = `stty ${size}; node ${GEN} add module redis --project ${dir}`;
  const full: Record<string, string | undefined> = { ...process.env, TERM: 'xterm-256color' };
  delete full.CI;
  delete full.NO_COLOR; // the test runner's own colour settings
  delete full.FORCE_COLOR;
  delete full.COLOR;
  delete full.NODE_ENV;
  const out = execFileSync('script', ['-qec', cmd, '/dev/null'], {
    env: { ...full, ...env },
    timeout: 30_000,
    maxBuffer: 1 << 20,
    stdio: ['ignore', 'pipe', 'pipe'],
  }).toString();
  return { out, ms: Date.now() - t0 };
}

test('on a 0×0 terminal add ends without drawing a spinner; NO_COLOR leaves no colour code on a real terminal', () => {
  const zero = onTerminal(copyExample('fastapi', 'tty0'), 'rows 0 cols 0', {});
  expect(zero.out).toContain('Summary:');
  expect(zero.out.length).toBeLessThan(20_000);
  expect(zero.out).not.toMatch(/\u001b\[\?25l/); // the spinner hides the cursor: never drawn here
  // the control: on a terminal of a usable size the spinner is drawn (and coloured)
  const drawn = onTerminal(copyExample('fastapi', 'tty80'), 'rows 24 cols 100', {});
  expect(drawn.out).toMatch(/\u001b\[\?25l/);
  expect(drawn.out).toMatch(/\u001b\[[0-9;]*m/);
  const plain = onTerminal(copyExample('fastapi', 'ttync'), 'rows 24 cols 100', { NO_COLOR: '1' });
  expect(plain.out).toContain('Summary:');
  expect(plain.out).not.toMatch(/\u001b\[[0-9;]*m/);
});

test('staging folders an older gen left at the project root (they may hold a staged .env) are removed by the next command', async () => {
  const dir = copyExample('fastapi', 'legacy-staging');
  const dead = spawnSync('true').pid!; // a pid that has exited
  const stale = path.join(dir, `.gen-staging-${dead}-0a1b2c3d`);
  fs.mkdirSync(stale);
  fs.writeFileSync(path.join(stale, '3'), `REDIS_PASSWORD=${PW}\n`);
  const r = await runGen(['add', 'module', 'redis', '--project', dir]);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  expect(r.stderr).toContain(`removed 1 staging folder(s) an interrupted older gen left behind (.gen-staging-${dead}-0a1b2c3d)`);
  expect(fs.existsSync(stale)).toBe(false);
});
