import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const STREAM_ABOVE = 4 * 1024 * 1024;
const CONCURRENCY = 64;

async function hashOne(abs: string): Promise<string | null> {
  let size: number;
  try {
    const st = await fs.promises.stat(abs);
    if (!st.isFile()) return null;
    size = st.size;
  } catch {
    return null;
  }
  if (size <= STREAM_ABOVE) return createHash('sha256').update(await fs.promises.readFile(abs)).digest('hex');
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    fs.createReadStream(abs)
      .on('data', (chunk) => h.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

/**
 * sha256 of many project files: reads run in parallel on libuv's thread pool while hashing proceeds on the main
 * thread, so both cores work; large files are streamed. Missing files map to null.
 */
export async function hashFiles(projectDir: string, rels: string[]): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  let next = 0;
  const worker = async () => {
    while (next < rels.length) {
      const rel = rels[next++]!;
      out.set(rel, await hashOne(path.join(projectDir, rel)));
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, rels.length) }, worker));
  return out;
}
