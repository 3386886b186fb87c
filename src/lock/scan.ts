/**
 * Dependency-free fast path for the lock's large part: the `files:` literal blocks (one line per file).
 *
 * gen writes each module's `files` as a YAML literal block indented by six spaces. Handing a 10,000-line block to a
 * general YAML parser costs far more than the hashing it describes, so the blocks are cut out here, line by line,
 * and replaced by a placeholder before the (small) remainder is parsed as YAML. Anything not in exactly the shape
 * gen writes is left alone and goes through the YAML parser as is, so a hand-edited lock is never misread.
 */

export const LOCK_PATH = '.rapidkit/modules.lock.yaml';

/** Placeholder left in the YAML text for block `i`. */
export const BLOCK_PLACEHOLDER = '__gen_files_block_';

export interface SplitLock {
  /** The lock text with every `files` block replaced by `"<placeholder><i>"`. */
  rest: string;
  /** Each block's text, indentation removed, one `<sha256>  <class>  <path>` line per entry. */
  blocks: string[];
}

const HEAD = /^ {4}files: \|-?\r?$/;

/** Cuts the `files` literal blocks out of the lock text (see above). */
export function splitFileBlocks(text: string): SplitLock {
  const lines = text.split('\n');
  const out: string[] = [];
  const blocks: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    // only a block whose first line is indented by exactly six spaces (what gen writes) takes the fast path
    if (!HEAD.test(line) || !/^ {6}\S/.test(lines[i + 1] ?? '')) {
      out.push(line);
      continue;
    }
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const l = lines[j]!;
      if (l.startsWith('      ')) body.push(l.endsWith('\r') ? l.slice(6, -1) : l.slice(6));
      else if (l === '' || l === '\r') body.push('');
      else break;
    }
    // trailing empty lines belong to the YAML text after the block (they are not content for `|`)
    while (j > i + 1 && (lines[j - 1] === '' || lines[j - 1] === '\r')) {
      j--;
      body.pop();
    }
    out.push(`    files: "${BLOCK_PLACEHOLDER}${blocks.length}"`);
    blocks.push(body.join('\n') + '\n');
    i = j - 1;
  }
  return { rest: out.join('\n'), blocks };
}

/** The `vendor` paths of one block (no validation: the lock parser checks every line). */
export function vendorPaths(block: string): string[] {
  const out: string[] = [];
  for (const line of block.split('\n')) {
    // <64 hex>  vendor  <path>
    if (line.length > 74 && line.startsWith('  vendor  ', 64)) out.push(line.slice(74));
  }
  return out;
}
