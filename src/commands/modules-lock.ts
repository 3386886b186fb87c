import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { GenError } from '../errors.js';
import { flush } from '../engine/flush.js';
import { LOCK_PATH, renderLock } from '../lock/lockfile.js';
import { rebuildLock } from '../lock/rebuild.js';

const optionsSchema = z.object({
  overwrite: z.boolean().default(false),
  project: z.string().default('.'),
  json: z.boolean().default(false),
});

export async function lockCommand(raw: Record<string, unknown>): Promise<void> {
  const opts = optionsSchema.parse(raw);
  const projectDir = path.resolve(opts.project);
  const file = path.join(projectDir, LOCK_PATH);
  const previous = fs.existsSync(file) ? fs.readFileSync(file) : null;
  if (previous && !opts.overwrite) {
    throw new GenError(`${LOCK_PATH} already exists`, {
      exitCode: 1,
      file: LOCK_PATH,
      hint: 'Use --overwrite to replace it (gen add keeps it up to date by itself).',
    });
  }
  const lock = rebuildLock(projectDir);
  const text = Buffer.from(renderLock(lock));
  const changed = !previous || !previous.equals(text);
  if (changed) flush(projectDir, [{ path: LOCK_PATH, content: text, previous }]);
  const summary = Object.entries(lock.modules).map(([name, m]) => ({
    name,
    version: m.version,
    framework: m.framework,
    files: m.files.size,
    digest: m.digest,
  }));
  if (opts.json)
    process.stdout.write(
      JSON.stringify({ schemaVersion: 1, command: 'lock', lock: LOCK_PATH, written: changed, modules: summary }, null, 2) + '\n',
    );
  else {
    for (const m of summary) process.stdout.write(`${m.name} ${m.version} (${m.framework}): ${m.files} files, ${m.digest}\n`);
    process.stdout.write(`${changed ? 'wrote' : 'unchanged'} ${LOCK_PATH}\n`);
  }
}
