import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type Options } from 'execa';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const GEN = path.join(REPO, 'bin', 'gen.js');
export const TMP = path.join(REPO, '.tmp');

/** A fresh folder under <repo>/.tmp (inside the repo so Node finds the repo's node_modules). */
export function tempDir(label: string): string {
  fs.mkdirSync(TMP, { recursive: true });
  return fs.mkdtempSync(path.join(TMP, `${label}-`));
}

/** Copies examples/<name> (without build outputs) into a temp folder and returns its path. */
export function copyExample(name: string, label = name): string {
  const dest = tempDir(label);
  const skip = new Set(['node_modules', 'dist', '.rapidkit', '__pycache__']);
  fs.cpSync(path.join(REPO, 'examples', name), dest, { recursive: true, filter: (src) => !skip.has(path.basename(src)) });
  return dest;
}

/** Runs the built CLI: never a TTY, no stdin, CI unset unless given. */
export async function runGen(args: string[], opts: { env?: Record<string, string | undefined>; cwd?: string } = {}) {
  const env: Record<string, string | undefined> = { ...process.env, CI: undefined, ...opts.env };
  for (const k of Object.keys(env)) if (k.startsWith('RAPIDKIT_') && !(opts.env && k in opts.env)) delete env[k];
  const res = await execa('node', [GEN, ...args], { cwd: opts.cwd ?? REPO, env, extendEnv: false, reject: false, stdin: 'ignore', timeout: 60_000 } as Options);
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
