/**
 * Dependency-free fast path for the lock's large part: the `files:` literal blocks (one line per file).
 *
 * gen writes each module's `files` as a YAML literal block indented by six spaces. Handing a 10,000-line block to a
 * general YAML parser costs far more than the hashing it describes, so the blocks are cut out here (found by two
 * regular expressions, the text never split into lines) and replaced by a placeholder before the (small) remainder
 * is parsed as YAML. Anything not in exactly the shape
 * gen writes is left alone and goes through the YAML parser as is, so a hand-edited lock is never misread.
 */

/** Placeholder left in the YAML text for block `i`. */
export const BLOCK_PLACEHOLDER = '__gen_files_block_';

export interface SplitLock {
  /** The lock text with every `files` block replaced by `"<placeholder><i>"`. */
  rest: string;
  /** Each block's text, indentation removed, one `<sha256>  <class>  <path>` line per entry. */
  blocks: string[];
}

/** A `files: |` line indented by four spaces whose first content line is indented by exactly six (what gen writes). */
const HEAD = /^ {4}files: \|-?\r?\n(?= {6}\S)/gm;
/** The first line after a block's start that is neither indented by six spaces nor empty. */
const BLOCK_END = /^(?! {6}|\r?$)/gm;

/** Cuts the `files` literal blocks out of the lock text (see above), without splitting the text into lines. */
export function splitFileBlocks(text: string): SplitLock {
  const blocks: string[] = [];
  let rest = '';
  let from = 0;
  HEAD.lastIndex = 0;
  for (let m; (m = HEAD.exec(text)) !== null;) {
    const start = m.index + m[0].length;
    BLOCK_END.lastIndex = start;
    const found = BLOCK_END.exec(text);
    let end = found === null || found.index >= text.length ? text.length : found.index;
    // trailing empty lines belong to the YAML text after the block (they are not content for `|`)
    let body = text.slice(start, end);
    // (by hand: an end-anchored regex retries at each of the block's 10,000 line ends)
    let k = body.length;
    while (k > 0 && (body.charCodeAt(k - 1) === 10 || body.charCodeAt(k - 1) === 13)) k--;
    const trimmed = k < body.length && body.slice(k).includes('\n') ? `${body.slice(0, k)}\n` : body;
    end = start + trimmed.length;
    body = trimmed.endsWith('\n') ? trimmed : `${trimmed}\n`;
    rest += `${text.slice(from, m.index)}    files: "${BLOCK_PLACEHOLDER}${blocks.length}"\n`;
    blocks.push(body.replace(/^ {6}|\r$/gm, ''));
    from = end;
    HEAD.lastIndex = end;
  }
  return { rest: rest + text.slice(from), blocks };
}

/** The `vendor` paths of one block (no validation: the lock parser checks every line). */
export function vendorPaths(block: string): string[] {
  const out: string[] = [];
  // line by line in place (no array of 10,000 lines): <64 hex>  vendor  <path>
  for (let at = 0, end; at < block.length; at = end + 1) {
    end = block.indexOf('\n', at);
    if (end < 0) end = block.length;
    if (end - at > 74 && block.startsWith('  vendor  ', at + 64)) out.push(block.slice(at + 74, end));
  }
  return out;
}
