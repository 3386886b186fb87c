import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

const STREAM_ABOVE = 8 * 1024 * 1024;
const INLINE_BELOW = 256; // small lists: hashing inline is cheaper than starting workers

/** sha256 of one file: read whole, or streamed in chunks when large; null when missing. */
export function hashFileSync(abs: string): string | null {
  let fd: number;
  try {
    const st = fs.statSync(abs);
    if (!st.isFile()) return null;
    if (st.size <= STREAM_ABOVE) return createHash('sha256').update(fs.readFileSync(abs)).digest('hex');
    fd = fs.openSync(abs, 'r');
  } catch {
    return null;
  }
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(1024 * 1024);
  try {
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const chunk = Buffer.allocUnsafe(1 << 20);
const out = workerData.files.map((abs) => {
  let fd;
  try { fd = fs.openSync(abs, 'r'); } catch { return null; }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return null;
    const h = createHash('sha256');
    const buf = st.size <= chunk.length ? chunk : Buffer.allocUnsafe(1 << 20);
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
    return h.digest('hex');
  } catch { return null; } finally { fs.closeSync(fd); }
});
parentPort.postMessage(out);
`;

/**
 * sha256 of many project files (missing → null). Large lists are split across worker threads, one per core, so
 * reading and hashing run in parallel with whatever the main thread does meanwhile (verify regenerates the module).
 */
export async function hashFiles(projectDir: string, rels: string[]): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  if (rels.length < INLINE_BELOW) {
    for (const rel of rels) out.set(rel, hashFileSync(path.join(projectDir, rel)));
    return out;
  }
  const cores = Math.max(1, Math.min(os.availableParallelism?.() ?? os.cpus().length, 8));
  const size = Math.ceil(rels.length / cores);
  const parts = Array.from({ length: cores }, (_, i) => rels.slice(i * size, (i + 1) * size)).filter((p) => p.length > 0);
  const results = await Promise.all(
    parts.map(
      (part) =>
        new Promise<Array<string | null>>((resolve, reject) => {
          const w = new Worker(WORKER, { eval: true, workerData: { files: part.map((r) => path.join(projectDir, r)) } });
          w.once('message', resolve);
          w.once('error', reject);
        }),
    ),
  );
  parts.forEach((part, i) => part.forEach((rel, j) => out.set(rel, results[i]![j]!)));
  return out;
}
