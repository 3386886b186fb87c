import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { toPosix } from '../util/paths.js';

function inside(root: string, real: string): boolean {
  return real === root || real.startsWith(root + path.sep);
}

/**
 * Containment of every write: resolves each project-relative target through the links on its way (folders and the
 * file itself) and returns the real project-relative paths. A link that leads outside the project, or a dangling
 * link, is refused (exit 2, naming the link and where it points) before anything is written. Links that stay inside
 * the project are followed: gen writes the file they lead to and leaves the link itself as it is.
 */
export function resolveTargets(projectDir: string, rels: string[]): string[] {
  const root = fs.realpathSync(projectDir);
  const seen = new Map<string, string>();
  return rels.map((rel) => {
    const real = resolveOne(root, rel);
    const other = seen.get(real);
    if (other !== undefined && other !== rel) {
      throw new UsageError(`${rel} and ${other} are the same file (through a link): gen would write it twice`, {
        code: 'UNSAFE_PATH',
        file: rel,
        hint: `Replace the link so that ${rel} and ${other} are separate files, then re-run.`,
      });
    }
    seen.set(real, rel);
    return real;
  });
}

function resolveOne(root: string, rel: string): string {
  const parts = rel.split('/').filter((p) => p !== '' && p !== '.');
  let cur = root;
  let shown = '';
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    shown = shown ? `${shown}/${part}` : part;
    const next = path.join(cur, part);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(next);
    } catch {
      return toPosix(path.relative(root, path.join(next, ...parts.slice(i + 1)))); // the rest will be created
    }
    if (!st.isSymbolicLink()) {
      if (i < parts.length - 1 && !st.isDirectory()) {
        throw new UsageError(`${shown} is a file where gen needs a folder (to write ${rel})`, {
          code: 'UNSAFE_PATH',
          file: shown,
          hint: `Move ${shown} out of the way (gen keeps its own files in folders), then re-run.`,
        });
      }
      cur = next;
      continue;
    }
    const to = fs.readlinkSync(next);
    let real: string;
    try {
      real = fs.realpathSync(next);
    } catch {
      throw new UsageError(`${shown} is a dangling link (it points to ${to}, which does not exist): gen would replace it by a file`, {
        code: 'UNSAFE_PATH',
        file: shown,
        hint: `Remove the link ${shown} or create what it points to, then re-run.`,
      });
    }
    if (!inside(root, real)) {
      throw new UsageError(
        `${shown} is a link to ${to}${real === to ? '' : ` (${real})`}, outside the project: gen writes only inside the project`,
        {
          code: 'UNSAFE_PATH',
          file: shown,
          hint: `Replace the link ${shown} with a real ${i < parts.length - 1 ? 'folder' : 'file'} inside the project (or remove it), then re-run.`,
        },
      );
    }
    cur = real;
  }
  return toPosix(path.relative(root, cur));
}
