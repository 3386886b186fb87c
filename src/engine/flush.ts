import fs from 'node:fs';
import path from 'node:path';
import { GenError } from '../errors.js';
import { GEN_DIR, toPosix, TXN_DIR } from '../util/paths.js';
import type { PlannedFile } from './classify.js';
import { resolveTargets } from './contain.js';

export interface FlushOp {
  path: string;
  /** New content; null deletes the file. */
  content: Buffer | null;
  /** Content before (null when the file did not exist). Used to roll back. */
  previous: Buffer | null;
  /** A file that holds secrets: created 0600 (an existing file keeps its mode). */
  secret?: boolean;
}

const JOURNAL = 'journal.json';
const OWNER = 'owner';
/** The journal of a transaction whose every rename is done (only the clean-up was left). */
const FINISHED = 'finished.json';

/** One file operation as the journal records it (paths project-relative POSIX, already resolved through links). */
interface JournalOp {
  path: string;
  /** Staged new content (file name inside the transaction folder), null for a delete. */
  staged: string | null;
  /** The previous content's copy (file name inside the transaction folder), null when the file did not exist. */
  backup: string | null;
  /** Mode the file gets when put in place (the existing file's mode, else 0600 for secrets, else the default). */
  mode: number | null;
  /** Mode of the previous file, restored by a roll back. */
  previousMode: number | null;
}

interface Journal {
  journalVersion: 1;
  pid: number;
  /** commit: roll forward (finish the renames); rollback: restore every backup and remove every created file. */
  state: 'commit' | 'rollback';
  ops: JournalOp[];
  /** Folders the transaction creates (project-relative), removed again when empty by a roll back. */
  createdDirs: string[];
  /** Folders of deleted files, removed (deepest first) when the deletes leave them empty (gen remove/upgrade). */
  prune?: string[];
}

/** Test hook: GEN_FAULT_AFTER=N makes the flush fail after N files were put in place (see docs/cli.md). */
function faultAfter(): number | null {
  const v = process.env.GEN_FAULT_AFTER;
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : null;
}

/**
 * Test hook: GEN_PAUSE_MS=N sleeps N ms after the journal and after each rename, so a kill -9 can land there, and
 * says on stderr when staging starts and when the journal is committed (`gen-test: staging` / `gen-test: committed`).
 */
function pauseMs(): number {
  const v = process.env.GEN_PAUSE_MS;
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : 0;
}

function trace(pause: number, what: string): void {
  if (pause > 0) fs.writeSync(2, `gen-test: ${what}\n`);
}

function sleep(ms: number): void {
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function defaultMode(): number {
  // documentation-only deprecation of the no-argument form; it is the only way to read the umask
  return 0o666 & ~process.umask();
}

function writePrivate(file: string, content: Buffer | string): void {
  const fd = fs.openSync(file, 'wx', 0o600);
  try {
    fs.writeSync(fd, typeof content === 'string' ? Buffer.from(content) : content);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Folders on the way to `rel` that do not exist yet, outermost first. */
function missingDirs(projectDir: string, rel: string): string[] {
  const out: string[] = [];
  let dir = path.posix.dirname(rel);
  while (dir !== '.' && dir !== '' && !fs.existsSync(path.join(projectDir, dir))) {
    out.unshift(dir);
    dir = path.posix.dirname(dir);
  }
  return out;
}

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on the device',
  EROFS: 'read-only filesystem',
  EDQUOT: 'disk quota exceeded',
  EISDIR: 'a folder is in the way',
  ENOTDIR: 'a file is in the way of a folder',
  EBUSY: 'the file is busy',
};

function remedyFor(code: string | undefined, where: string): string {
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return `Make ${where} writable by you (ls -ld ${where}; chmod u+w or chown it), then re-run.`;
    case 'ENOSPC':
    case 'EDQUOT':
      return 'Free some disk space, then re-run.';
    case 'EROFS':
      return 'The project is on a read-only filesystem: re-mount it read-write or copy the project elsewhere, then re-run.';
    default:
      return `Fix the cause above for ${where}, then re-run.`;
  }
}

/** The error of a failed write: the path, the reason, "nothing was changed" and a remedy (exit 1, WRITE_FAILED). */
function writeFailed(projectDir: string, err: unknown, rolledBack: boolean): GenError {
  if (err instanceof GenError) return err;
  const e = err as NodeJS.ErrnoException;
  // a rename names its source (the staged file) in path and its target in dest: the user wants the target
  const dest = (e as { dest?: unknown } | undefined)?.dest;
  const abs = typeof dest === 'string' ? dest : typeof e?.path === 'string' ? e.path : undefined;
  const rel = abs ? toPosix(path.relative(projectDir, abs)) || '.' : undefined;
  const shown = rel && !rel.startsWith('..') ? rel : abs;
  const reason = (e?.code && REASONS[e.code]) ?? (err instanceof Error ? err.message : String(err));
  const outcome = rolledBack ? 'nothing was changed' : 'the project may be partly written; the next gen command will restore it';
  return new GenError(`could not write ${shown ?? 'the project'}: ${reason}${e?.code ? ` (${e.code})` : ''}; ${outcome}`, {
    code: 'WRITE_FAILED',
    exitCode: 1,
    file: shown,
    hint: remedyFor(e?.code, shown && path.posix.dirname(shown) !== '.' ? path.posix.dirname(shown) : projectDir),
    cause: err,
  });
}

/**
 * All-or-nothing write, crash-safe by journal:
 * 1. every target's real path is resolved and checked to stay inside the project (contain.ts), before any write;
 * 2. new contents and copies of the previous contents are staged in `.rapidkit/txn/` (files 0600);
 * 3. the journal (the list of operations) is written atomically: the commit point;
 * 4. each staged file is renamed into place (atomic per file);
 * 5. the journal, then the transaction folder, are removed.
 * A crash before 3 leaves the project untouched (recovery deletes the staging); after 3 the next gen command rolls
 * the transaction forward (see recover). An error inside this process rolls back to exactly the previous state.
 */
export function flush(projectDir: string, ops: FlushOp[]): void {
  if (ops.length === 0) return;
  projectDir = path.resolve(projectDir);
  // refuse links leading outside the project (or dangling) before anything is written; follow those that stay inside
  const resolved = resolveTargets(
    projectDir,
    ops.map((o) => o.path),
  );
  const txn = path.join(projectDir, TXN_DIR);
  if (fs.existsSync(txn)) recover(projectDir); // throws when another gen process owns it
  const createdDirs = [...new Set(resolved.flatMap((r) => missingDirs(projectDir, r)))];
  for (const d of missingDirs(projectDir, `${TXN_DIR}/x`)) if (!createdDirs.includes(d)) createdDirs.unshift(d);
  const base = defaultMode();
  const prune = pruneCandidates(ops.flatMap((o, i) => (o.content === null ? [resolved[i]!] : [])));
  const journal: Journal = { journalVersion: 1, pid: process.pid, state: 'commit', ops: [], createdDirs, prune };
  const limit = faultAfter();
  const pause = pauseMs();
  let placed = 0;
  trace(pause, 'staging');
  try {
    fs.mkdirSync(path.dirname(txn), { recursive: true });
    fs.mkdirSync(txn, { mode: 0o700 });
    writePrivate(path.join(txn, OWNER), ownerMark(process.pid));
    ops.forEach((op, i) => {
      const rel = resolved[i]!;
      const abs = path.join(projectDir, rel);
      let previousMode: number | null = null;
      try {
        const st = fs.statSync(abs);
        if (st.isFile()) previousMode = st.mode & 0o7777;
      } catch {
        /* a new file */
      }
      const jop: JournalOp = { path: rel, staged: null, backup: null, mode: null, previousMode };
      if (op.content !== null) {
        jop.staged = `new-${i}`;
        writePrivate(path.join(txn, jop.staged), op.content);
        jop.mode = previousMode ?? (op.secret ? 0o600 : base);
      }
      if (previousMode !== null) {
        jop.backup = `old-${i}`;
        writePrivate(path.join(txn, jop.backup), fs.readFileSync(abs));
      }
      journal.ops.push(jop);
    });
    // the commit point: the journal appears atomically, complete
    writePrivate(path.join(txn, `${JOURNAL}.tmp`), JSON.stringify(journal));
    fs.renameSync(path.join(txn, `${JOURNAL}.tmp`), path.join(txn, JOURNAL));
  } catch (err) {
    discard(projectDir, createdDirs);
    throw writeFailed(projectDir, err, true);
  }
  trace(pause, 'committed');
  sleep(pause);
  try {
    for (const op of journal.ops) {
      if (limit !== null && placed >= limit) throw new Error(`injected fault after ${limit} file(s) (GEN_FAULT_AFTER)`);
      applyOp(projectDir, txn, op);
      placed++;
      sleep(pause);
    }
    pruneDirs(projectDir, journal.prune);
  } catch (err) {
    try {
      journal.state = 'rollback';
      writePrivate(path.join(txn, `${JOURNAL}.tmp`), JSON.stringify(journal));
      fs.renameSync(path.join(txn, `${JOURNAL}.tmp`), path.join(txn, JOURNAL));
      rollBack(projectDir, txn, journal);
      fs.rmSync(path.join(txn, JOURNAL), { force: true });
      discard(projectDir, createdDirs);
    } catch {
      throw writeFailed(projectDir, err, false);
    }
    throw writeFailed(projectDir, err, true);
  }
  finish(projectDir, txn);
}

/** Every folder above the deleted files (not the project itself, not gen's own folder, which finish tidies). */
function pruneCandidates(deleted: string[]): string[] {
  const dirs = new Set<string>();
  for (const rel of deleted) {
    for (let d = path.posix.dirname(rel); d !== '.' && d !== '' && d !== GEN_DIR; d = path.posix.dirname(d)) dirs.add(d);
  }
  return [...dirs].sort((a, b) => b.split('/').length - a.split('/').length || (a < b ? -1 : 1));
}

/** Removes the folders the deletes left empty, deepest first; idempotent (a roll forward repeats it). */
function pruneDirs(projectDir: string, dirs: string[] | undefined): void {
  for (const d of dirs ?? []) {
    try {
      fs.rmdirSync(path.join(projectDir, d));
    } catch {
      /* not empty (the user's files, or a sibling gen keeps), or gone already */
    }
  }
}

/** Puts one staged file in place (or deletes), idempotent: a staged file already renamed is skipped. */
function applyOp(projectDir: string, txn: string, op: JournalOp): void {
  const target = path.join(projectDir, op.path);
  if (op.staged === null) {
    fs.rmSync(target, { force: true });
    return;
  }
  const staged = path.join(txn, op.staged);
  if (fs.existsSync(staged)) {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    if (op.mode !== null) fs.chmodSync(staged, op.mode);
    fs.renameSync(staged, target);
  } else if (op.mode !== null && fs.existsSync(target)) {
    fs.chmodSync(target, op.mode);
  }
}

function rollBack(projectDir: string, txn: string, journal: Journal): void {
  for (const op of [...journal.ops].reverse()) {
    const target = path.join(projectDir, op.path);
    if (op.backup === null) {
      fs.rmSync(target, { force: true });
      continue;
    }
    const backup = path.join(txn, op.backup);
    if (!fs.existsSync(backup)) continue; // restored already
    fs.mkdirSync(path.dirname(target), { recursive: true });
    if (op.previousMode !== null) fs.chmodSync(backup, op.previousMode);
    fs.renameSync(backup, target);
  }
}

/** Removes the transaction folder and the folders it created that are empty again (deepest first). */
function discard(projectDir: string, createdDirs: string[]): void {
  fs.rmSync(path.join(projectDir, TXN_DIR), { recursive: true, force: true });
  for (const dir of [...createdDirs].sort((a, b) => b.length - a.length)) {
    try {
      fs.rmdirSync(path.join(projectDir, dir));
    } catch {
      /* not empty: something lives there */
    }
  }
}

function finish(projectDir: string, txn: string): void {
  // the journal becomes the mark of a finished transaction (atomically), then the folder goes
  fs.renameSync(path.join(txn, JOURNAL), path.join(txn, FINISHED));
  fs.rmSync(txn, { recursive: true, force: true });
  try {
    fs.rmdirSync(path.join(projectDir, GEN_DIR)); // only when empty (a flush that wrote nothing inside it)
  } catch {
    /* not empty */
  }
}

/**
 * When a process started, as the kernel counts it (Linux: /proc/<pid>/stat field 22); null where unknown. With the
 * pid it tells a live owner from another process that got the same pid after the owner died.
 */
function startTime(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) is in parentheses and may hold spaces: count from the last ')'
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** The owner file's text: `<pid>` or `<pid> <start time>`. */
function ownerMark(pid: number): string {
  const started = startTime(pid);
  return started === null ? String(pid) : `${pid} ${started}`;
}

/** True when the process that wrote this owner mark still runs (the same process, not a reused pid). */
function ownerAlive(mark: string): boolean {
  const [pid, started] = mark.trim().split(' ');
  if (!alive(Number(pid))) return false;
  return started === undefined || startTime(Number(pid)) === null || startTime(Number(pid)) === started;
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Finishes or undoes a transaction an earlier gen process left behind (killed, power loss): with a journal it is
 * rolled forward (state commit) or back (state rollback); without one nothing in the project was touched yet and
 * the staging is deleted. Every staging file is removed. Returns what it did (null when there was nothing), for
 * stderr. Throws when the transaction belongs to a gen process that is still running.
 */
export function recover(projectDir: string): string | null {
  projectDir = path.resolve(projectDir);
  const legacy = removeLegacyStaging(projectDir);
  const said = recoverTxn(projectDir);
  return [legacy, said].filter((x) => x !== null).join('\n') || null;
}

/**
 * Staging folders of gen versions before the journal (`.gen-staging-<pid>-<hex>` at the project root) were never
 * cleaned after a crash and may hold a staged .env: removed (their writer did not rename anything out of them).
 */
function removeLegacyStaging(projectDir: string): string | null {
  let names: string[];
  try {
    names = fs.readdirSync(projectDir).filter((n) => /^\.gen-staging-\d+-[0-9a-f]+$/.test(n));
  } catch {
    return null;
  }
  const stale = names.filter((n) => !alive(Number(n.split('-')[2])));
  for (const n of stale) fs.rmSync(path.join(projectDir, n), { recursive: true, force: true });
  return stale.length ? `gen: removed ${stale.length} staging folder(s) an interrupted older gen left behind (${stale.join(', ')})` : null;
}

function recoverTxn(projectDir: string): string | null {
  const txn = path.join(projectDir, TXN_DIR);
  let st: fs.Stats;
  try {
    st = fs.lstatSync(txn);
  } catch {
    tidyGenDir(projectDir); // a crash between creating .rapidkit and its txn folder leaves it empty
    return null;
  }
  if (!st.isDirectory()) {
    throw new GenError(`${TXN_DIR} is not a folder`, {
      code: 'WRITE_FAILED',
      exitCode: 1,
      file: TXN_DIR,
      hint: `Remove ${TXN_DIR} (gen's transaction folder), then re-run.`,
    });
  }
  let mark = '';
  try {
    mark = fs.readFileSync(path.join(txn, OWNER), 'utf8');
  } catch {
    /* crashed before writing it */
  }
  const owner = Number(mark.trim().split(' ')[0]);
  if (ownerAlive(mark)) {
    throw new GenError(`another gen process (pid ${owner}) is writing this project`, {
      code: 'LOCKED',
      exitCode: 1,
      file: TXN_DIR,
      hint: `Wait for it to finish, then re-run. If no gen is running, remove ${TXN_DIR}.`,
    });
  }
  let journal: Journal | null = null;
  try {
    journal = JSON.parse(fs.readFileSync(path.join(txn, JOURNAL), 'utf8')) as Journal;
  } catch {
    journal = null;
  }
  try {
    if (journal === null) {
      const finished = fs.existsSync(path.join(txn, FINISHED));
      discard(projectDir, []);
      tidyGenDir(projectDir);
      return !finished
        ? `gen: an earlier gen command was interrupted before changing anything; removed its staging (${TXN_DIR})`
        : `gen: an earlier gen command was interrupted after it had finished writing; removed its leftover ${TXN_DIR}`;
    }
    if (journal.state === 'rollback') {
      rollBack(projectDir, txn, journal);
      fs.rmSync(path.join(txn, JOURNAL), { force: true });
      discard(projectDir, journal.createdDirs);
      return `gen: an earlier gen command was interrupted while undoing its changes; rolled it back (${journal.ops.length} file(s) restored as before)`;
    }
    for (const op of journal.ops) applyOp(projectDir, txn, op);
    pruneDirs(projectDir, journal.prune);
    finish(projectDir, txn);
    return `gen: an earlier gen command (pid ${journal.pid}) was interrupted after its commit point; rolled it forward (${journal.ops.length} file(s) written as it intended)`;
  } catch (err) {
    throw new GenError(
      `could not recover the interrupted gen transaction in ${TXN_DIR}: ${err instanceof Error ? err.message : String(err)}`,
      {
        code: 'WRITE_FAILED',
        exitCode: 1,
        file: TXN_DIR,
        hint: `Fix the cause above (permissions, disk space) and re-run; the journal ${TXN_DIR}/${JOURNAL} is kept until then.`,
        cause: err,
      },
    );
  }
}

/** `.rapidkit` created only to hold an interrupted staging goes again. */
function tidyGenDir(projectDir: string): void {
  try {
    const dir = path.join(projectDir, GEN_DIR);
    if (fs.lstatSync(dir).isDirectory() && fs.readdirSync(dir).length === 0) fs.rmdirSync(dir);
  } catch {
    /* absent, not a folder or not removable: leave it */
  }
}

export function opsFrom(files: PlannedFile[], isSecret: (f: PlannedFile) => boolean = () => false): FlushOp[] {
  return files.map((f) => ({
    path: f.path,
    content: f.action === 'delete' ? null : f.content,
    previous: f.previous,
    secret: isSecret(f),
  }));
}
