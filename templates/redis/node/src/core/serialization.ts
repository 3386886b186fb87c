/** The stored value format shared with the Python runtime (docs/cache-contract.md): compact UTF-8 JSON. */
export function dumps(value: unknown): string {
  if (value === undefined) throw new TypeError('cannot cache undefined (use null)');
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError(`cannot cache a ${typeof value}`);
  return text;
}

/** Parses JSON; a value another tool stored as plain text comes back unchanged. */
export function loads(raw: string | null): unknown {
  if (raw === null) return null;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/** SET arguments for a TTL in seconds: undefined = default, 0 = no expiry, fractions as PX, negative = error. */
export function ttlArgs(ttl: number | undefined | null, defaultTtl: number): [] | ['EX', number] | ['PX', number] {
  const s = ttl === undefined || ttl === null ? defaultTtl : ttl;
  if (typeof s !== 'number' || Number.isNaN(s)) throw new TypeError(`ttl must be a number of seconds, got ${typeof s}`);
  if (s < 0) throw new RangeError(`ttl must be >= 0 seconds, got ${s}`);
  if (s === 0) return [];
  if (Number.isInteger(s)) return ['EX', s];
  return ['PX', Math.max(1, Math.ceil(s * 1000))];
}

/** Escapes Redis glob characters so a key prefix matches literally. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
