/**
 * A reader for the plain subset of YAML that gen writes (the lock) and that small hand-written files use (the
 * catalogue): block mappings and sequences indented by spaces, `#` comment lines, plain scalars that are
 * unmistakably strings, integers, booleans or null, JSON-style double-quoted and single-quoted strings, `{}` and `[]`.
 *
 * It exists for speed only: loading the `yaml` package costs ~30 ms, more than the rest of a `verify-all` start-up.
 * It never guesses. Anything outside the subset (anchors, tags, flow collections with content, block scalars,
 * floats, octal or hex numbers, trailing comments, tabs, duplicate keys, odd indentation…) returns `undefined`, and
 * the caller hands the text to the real YAML parser, which then decides (and reports errors). So for every text,
 * the result is either `undefined` or exactly what `yaml`'s `parse` returns (test/unit/plain-yaml.test.ts).
 */

const KEY = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const INT = /^-?(?:0|[1-9][0-9]{0,14})$/;
/** Plain scalars the YAML 1.2 core schema reads as numbers other than plain integers (left to `yaml`). */
const OTHER_NUMBER =
  /^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|0o[0-7]+|0x[0-9a-fA-F]+)$/;
/**
 * A plain scalar that is a string in block context: no indicator first (`-` only before a non-space), no `: ` or
 * ` #` inside, no `:` at the end, no control characters, no space at either end.
 */
const PLAIN = /^(?![-?:,[\]{}#&*!|>'"%@`\s]|-\s|-$)(?!.*(?:: | #|:$|\s$))[^\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]+$/u;
const NULLS = new Set(['~', 'null', 'Null', 'NULL']);
const BOOLS = new Map([
  ['true', true],
  ['True', true],
  ['TRUE', true],
  ['false', false],
  ['False', false],
  ['FALSE', false],
]);

/** Marks "outside the subset": thrown inside, turned into `undefined` at the top. */
const OUT = Symbol('outside the subset');

interface Line {
  indent: number;
  text: string;
}

function scalar(raw: string): unknown {
  if (raw === '{}') return {};
  if (raw === '[]') return [];
  const c = raw[0]!;
  if (c === '"') {
    // JSON's escapes mean the same in YAML; a JSON-valid token ends at its closing quote
    try {
      const v: unknown = JSON.parse(raw);
      if (typeof v === 'string' && !/[\x7f-\x9f\u2028\u2029\ufeff]/.test(raw)) return v;
    } catch {
      /* not JSON-compatible: leave it to YAML */
    }
    throw OUT;
  }
  if (c === "'") {
    if (raw.length < 2 || !raw.endsWith("'")) throw OUT;
    const body = raw.slice(1, -1);
    if (/'(?!')/.test(body.replace(/''/g, '')) || /[\x00-\x1f]/.test(body)) throw OUT;
    return body.replace(/''/g, "'");
  }
  if (NULLS.has(raw)) return null;
  const bool = BOOLS.get(raw);
  if (bool !== undefined) return bool;
  if (INT.test(raw) && raw !== '-0') return Number(raw);
  if (OTHER_NUMBER.test(raw)) throw OUT;
  if (!PLAIN.test(raw)) throw OUT;
  return raw;
}

/** `key: value` / `key:` → [key, rest] (rest '' when the value follows on deeper lines). */
function splitKey(text: string): [string, string] {
  const at = text.indexOf(':');
  if (at <= 0) throw OUT;
  const key = text.slice(0, at);
  if (!KEY.test(key) || typeof scalar(key) !== 'string') throw OUT; // `1:`, `true:`, `null:` are not string keys
  const rest = text.slice(at + 1);
  if (rest === '') return [key, ''];
  if (rest[0] !== ' ') throw OUT;
  const value = rest.slice(1);
  if (value === '' || value[0] === ' ' || value.endsWith(' ')) throw OUT;
  return [key, value];
}

class Reader {
  i = 0;
  constructor(private readonly lines: Line[]) {}

  /** The node whose lines start at the current line and are indented by exactly `indent`. */
  node(indent: number): unknown {
    const first = this.lines[this.i];
    if (!first || first.indent !== indent) throw OUT;
    return first.text.startsWith('- ') || first.text === '-' ? this.sequence(indent) : this.mapping(indent);
  }

  private mapping(indent: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    while (this.i < this.lines.length) {
      const line = this.lines[this.i]!;
      if (line.indent < indent) break;
      if (line.indent > indent) throw OUT;
      const [key, value] = splitKey(line.text);
      if (Object.prototype.hasOwnProperty.call(out, key) || key === '__proto__') throw OUT;
      this.i++;
      out[key] = this.value(value, indent);
    }
    return out;
  }

  private sequence(indent: number): unknown[] {
    const out: unknown[] = [];
    while (this.i < this.lines.length) {
      const line = this.lines[this.i]!;
      if (line.indent < indent) break;
      if (line.indent > indent || !line.text.startsWith('- ')) throw OUT;
      const item = line.text.slice(2);
      if (item === '' || item[0] === ' ') throw OUT;
      if (/^[A-Za-z0-9_][A-Za-z0-9_.-]*:(?: |$)/.test(item)) {
        // `- key: value` opens a mapping whose other keys line up with `key`
        this.lines[this.i] = { indent: indent + 2, text: item };
        out.push(this.mapping(indent + 2));
      } else {
        this.i++;
        out.push(scalar(item));
      }
    }
    return out;
  }

  private value(value: string, indent: number): unknown {
    if (value !== '') return scalar(value);
    const next = this.lines[this.i];
    if (!next || next.indent <= indent) return null; // `key:` with nothing under it
    return this.node(next.indent);
  }
}

/** The value of `text` when it is inside the plain subset, else `undefined` (then parse it with `yaml`). */
export function parsePlainYaml(text: string): unknown {
  const lines: Line[] = [];
  for (const raw of text.split('\n')) {
    const l = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const body = l.trimStart();
    if (body === '' || body[0] === '#') continue;
    if (l.includes('\t') || l.includes(' #') || l.endsWith(' ') || body.startsWith('---') || body.startsWith('...') || body[0] === '%')
      return undefined;
    lines.push({ indent: l.length - body.length, text: body });
  }
  if (lines.length === 0) return undefined;
  try {
    const reader = new Reader(lines);
    const value = reader.node(0);
    return reader.i === lines.length ? value : undefined;
  } catch (e) {
    if (e === OUT) return undefined;
    throw e;
  }
}
