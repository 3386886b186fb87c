import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import type { ModuleDef, VariableDef } from '../module/schema.js';
import { isInside, LOCK_PATH, toPosix } from '../util/paths.js';
import { redactUrls } from '../util/redact.js';
import { resolveTargets } from './contain.js';

export type Source = 'default' | 'recorded' | 'override' | 'set' | 'derived';

/** Sources the user chose (recorded in the lock by an earlier add, or given now). */
const CHOSEN: ReadonlySet<Source> = new Set(['recorded', 'override', 'set']);

export interface ExtraSnippet {
  /** Absolute path of the file to copy. */
  source: string;
  /** Project-relative POSIX destination. */
  dest: string;
  /** Framework ids it applies to; null = all. */
  variants: string[] | null;
}

export interface ResolvedOptions {
  /** Every non-secret variable after resolution (plus derived ones), as templates see them in `vars`. */
  vars: Record<string, unknown>;
  /** Secret variables (written only to snippets marked `secrets: true`). */
  secrets: Record<string, string | null>;
  /** Where each variable's value came from. */
  sources: Record<string, Source>;
  /** What the user supplied (overrides and --set), secrets replaced by a reference to their variable. */
  inputs: Record<string, unknown>;
  extra: ExtraSnippet | null;
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

/** Parses one textual value for a variable; `origin` names where it came from for the error. */
export function parseValue(name: string, def: VariableDef, raw: string, origin: string, within?: { part: string; url: string }): unknown {
  const v = raw.trim();
  const fail = (expected: string): never => {
    const shown = def.secret ? '(hidden)' : `'${redactUrls(raw)}'`;
    if (within) {
      throw new UsageError(`${origin}: ${within.part} of ${redactUrls(within.url)}: expected ${expected}, got ${shown}`, {
        field: name,
        hint: `Fix ${within.part} in ${origin} (expected ${expected}), or unset it to use the default; see docs/overrides.md.`,
      });
    }
    throw new UsageError(`${origin}: expected ${expected}, got ${shown}`, {
      field: name,
      hint: `Set ${origin} to ${expected}, or unset it to use the default; see docs/overrides.md.`,
    });
  };
  // no control characters in any text value, secrets included: they would break the files gen writes (.env lines)
  if ((def.type === 'string' || def.type === 'url') && /[\u0000-\u001f\u007f]/.test(raw))
    return fail('a value without control characters (newlines, tabs, escapes)');
  switch (def.type) {
    case 'boolean': {
      const l = v.toLowerCase();
      if (TRUE.has(l)) return true;
      if (FALSE.has(l)) return false;
      return fail('a boolean (1/true/yes/on or 0/false/no/off)');
    }
    case 'integer': {
      if (!/^-?\d+$/.test(v)) return fail('an integer');
      return checkRange(Number(v), def, fail);
    }
    case 'number': {
      const m = /^(-?\d+(?:\.\d+)?|-?\.\d+)(ms|s)?$/.exec(v);
      if (!m) return fail('a number of seconds (e.g. 0.5, 500ms or 0.5s)');
      const n = Number(m[1]) / (m[2] === 'ms' ? 1000 : 1);
      return checkRange(n, def, fail);
    }
    case 'url': {
      const port = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(?:\[[^\]]*\]|[^:/?#]*):(\d+)(?:[/?#]|$)/i.exec(v)?.[1];
      if (port !== undefined && Number(port) > 65535) return fail(`a URL with a port between 1 and 65535 (got port ${port})`);
      let u: URL;
      try {
        u = new URL(v);
      } catch {
        return fail(`a URL like ${def.schemes[0]}://host:port`);
      }
      const scheme = u.protocol.slice(0, -1);
      if (!def.schemes.includes(scheme)) return fail(`a ${def.schemes.map((x) => `${x}://`).join(' or ')} URL`);
      if (u.search || u.hash || v.includes('?') || v.includes('#'))
        return fail('a URL without a query (?…) or fragment (#…): set those options as their own variables');
      return v;
    }
    case 'string': {
      if (def.format === 'hostname') {
        if (!isHostname(v)) return fail('a host name (RFC 1123), an IPv4 address or an IPv6 address (e.g. ::1 or [::1])');
        return v.replace(/^\[(.*)\]$/, '$1'); // an IPv6 address is kept bare; the URL adds its brackets
      }
      if (def.choices && !def.choices.includes(v)) return fail(`one of ${def.choices.join(', ')}`);
      if (def.pattern && !new RegExp(def.pattern).test(v)) return fail(`a value matching ${def.pattern}`);
      return v;
    }
  }
}

function checkRange(n: number, def: { min?: number; max?: number }, fail: (e: string) => never): number {
  if (def.min !== undefined && n < def.min) fail(`a value >= ${def.min}`);
  if (def.max !== undefined && n > def.max) fail(`a value <= ${def.max}`);
  return n;
}

/** An RFC 1123 host name, a dotted IPv4 address, or an IPv6 address (with or without brackets). */
export function isHostname(h: string): boolean {
  if (/^(\[[0-9a-fA-F:.]+\]|[0-9a-fA-F:.]+)$/.test(h) && h.includes(':')) return URL.canParse(`http://[${h.replace(/^\[|\]$/g, '')}]/`);
  if (h.includes('[') || h.includes(']')) return false;
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(h)) return h.split('.').every((o) => Number(o) <= 255);
  return h.length <= 253 && h.split('.').every((l) => /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l));
}

export function slugify(name: string): string {
  return slugOf(name) || 'app';
}

/** The lower-case, dash-separated slug of a name ('' when it has no letter or digit). */
function slugOf(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** `--set key=value` pairs into a map; unknown keys are an error listing the declared variables. */
export function parseSets(sets: string[], def: ModuleDef): Map<string, string> {
  const out = new Map<string, string>();
  for (const item of sets) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`--set ${item}: expected key=value`, { hint: `Example: --set cache_ttl=600` });
    const key = item.slice(0, eq).trim();
    // project_name is always resolved (from the folder when a module does not declare it) and always recorded
    if (!(key in def.variables) && key !== 'project_name') {
      throw new UsageError(`--set ${key}: unknown variable. Available variables: ${Object.keys(def.variables).join(', ')}`, {
        hint: `Run 'gen modules info ${def.name}' to see every variable with its default.`,
      });
    }
    out.set(key, item.slice(eq + 1));
  }
  return out;
}

export interface ResolveInput {
  def: ModuleDef;
  projectDir: string;
  sets: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Options an earlier add recorded in the lock: they sit between the defaults and the overrides. */
  recorded?: Record<string, unknown>;
}

/** module defaults < RAPIDKIT_<MODULE>_* overrides < --set; then derived values (slug, URL parts, prefix). */
export function resolveOptions({
  def,
  projectDir,
  sets,
  env = process.env,
  cwd = process.cwd(),
  recorded = {},
}: ResolveInput): ResolvedOptions {
  const values: Record<string, unknown> = {};
  const sources: Record<string, Source> = {};
  const inputs: Record<string, unknown> = {};
  const setMap = parseSets(sets, def);
  /** Where each value the user chose came from, as they would name it (an override variable, `--set key`). */
  const origins: Record<string, string> = {};
  for (const [name, v] of Object.entries(def.variables)) {
    values[name] = v.default;
    sources[name] = 'default';
    const rec = recorded[name];
    if (rec !== undefined && rec !== null) {
      if (v.secret) {
        // recorded by reference only: read the value back from the project's .env, where add wrote it
        const fromDotenv = readDotenv(projectDir, secretEnvName(name));
        if (fromDotenv) {
          values[name] = fromDotenv;
          sources[name] = 'recorded';
        }
      } else {
        origins[name] = `${LOCK_PATH} option ${name}`;
        values[name] = parseValue(name, v, String(rec), origins[name]);
        sources[name] = 'recorded';
      }
    }
    const envRaw = v.override ? env[v.override] : undefined;
    if (v.override && envRaw !== undefined && envRaw.trim() !== '') {
      origins[name] = v.override;
      values[name] = parseValue(name, v, envRaw, v.override);
      sources[name] = 'override';
    }
    const setRaw = setMap.get(name);
    if (setRaw !== undefined) {
      origins[name] = `--set ${name}`;
      values[name] = parseValue(name, v, setRaw, origins[name]);
      sources[name] = 'set';
    }
  }

  // a module that does not declare project_name still gets one; what was recorded (or set) wins over the folder
  // name, so a checkout in a folder of another name (CI) renders the same
  const undeclared =
    'project_name' in def.variables
      ? undefined
      : (setMap.get('project_name') ?? (typeof recorded.project_name === 'string' ? recorded.project_name : undefined));
  const projectName = (values.project_name as string | null) ?? undeclared ?? path.basename(path.resolve(projectDir));
  values.project_name = projectName;
  const nameOrigin =
    origins.project_name ??
    (undeclared === undefined ? undefined : setMap.has('project_name') ? '--set project_name' : `${LOCK_PATH} option project_name`);
  if (slugOf(projectName) === '' && nameOrigin !== undefined) {
    throw new UsageError(`${nameOrigin}: '${projectName}' gives an empty slug (no letter or digit)`, {
      field: 'project_name',
      hint: `Set ${nameOrigin} to a name with at least one letter or digit (e.g. 'My Shop'), or unset it to use the folder name.`,
    });
  }
  values.project_slug = slugify(projectName);
  sources.project_slug = 'derived';

  for (const [name, v] of Object.entries(def.variables)) if (v.type === 'url') resolveUrl(name, v, def, values, sources, origins);
  for (const [name, v] of Object.entries(def.variables)) {
    if ((values[name] === null || values[name] === undefined) && v.derive !== undefined) {
      values[name] = v.derive.replace(/\{([a-z][a-z0-9_]*)\}/g, (_m, k: string) => String(values[k] ?? ''));
      sources[name] = 'derived';
    }
  }

  const secrets: Record<string, string | null> = {};
  for (const [name, v] of Object.entries(def.variables)) {
    if (!v.secret) continue;
    secrets[name] = (values[name] as string | null) ?? null;
    // templates may ask whether a secret is set (never for its value): vars.has_<name>
    values[`has_${name}`] = secrets[name] !== null && secrets[name] !== '';
  }
  for (const [name, v] of Object.entries(def.variables)) {
    // what the user supplied, after resolution (a URL's password has been moved out); secrets by reference only
    if (CHOSEN.has(sources[name]!)) inputs[name] = v.secret ? { secret: true, env: secretEnvName(name) } : values[name];
    if (v.secret) delete values[name];
  }

  return { vars: values, secrets, sources, inputs, extra: resolveExtraSnippet(def, projectDir, env, cwd) };
}

/** The last `KEY=value` of a dotenv file in the project (quotes stripped); null when absent. */
function readDotenv(projectDir: string, key: string): string | null {
  let text: string;
  try {
    text = fs.readFileSync(path.join(projectDir, '.env'), 'utf8');
  } catch {
    return null;
  }
  let found: string | null = null;
  for (const line of text.split(/\r?\n/)) {
    const m = new RegExp(`^\\s*(?:export\\s+)?${key}\\s*=\\s*(.*)$`).exec(line);
    if (m) found = m[1]!.trim().replace(/^(['"])(.*)\1$/, '$2');
  }
  return found === '' ? null : found;
}

export function secretEnvName(variable: string): string {
  return variable.toUpperCase();
}

type UrlVariable = Extract<VariableDef, { type: 'url' }>;

/** `scheme://user:password@host:port/path` with its userinfo (any password) replaced by `***` for display. */
export function redactUrl(text: string): string {
  return redactUrls(text);
}

/**
 * Keeps a URL variable and its parts consistent (see the `url` variable type in module/schema.ts): a URL the user
 * gave is split into the parts they did not set themselves (each part checked by its own variable's rules, the
 * error naming the URL's origin); then the URL is composed from the parts, without the password.
 */
function resolveUrl(
  name: string,
  v: UrlVariable,
  def: ModuleDef,
  values: Record<string, unknown>,
  sources: Record<string, Source>,
  origins: Record<string, string>,
): void {
  const { parts } = v;
  const given = values[name] as string | null;
  const origin = origins[name] ?? name;
  let username = '';
  if (given) {
    const u = new URL(given); // parseValue checked it
    const explicit = (k: string | undefined) => k !== undefined && CHOSEN.has(sources[k]!);
    const take = (part: string | undefined, raw: string, label: string) => {
      if (part === undefined || explicit(part) || raw === '') return;
      values[part] = parseValue(part, def.variables[part]!, raw, origin, { part: label, url: given });
      sources[part] = sources[name]!;
    };
    if (u.password && parts.password !== undefined && !explicit(parts.password)) {
      values[parts.password] = decodeURIComponent(u.password);
      sources[parts.password] = sources[name]!;
    }
    username = u.username;
    take(parts.host, u.hostname.replace(/^\[|\]$/g, ''), 'the host');
    take(parts.port, u.port, 'the port');
    const segments = u.pathname.split('/').filter(Boolean);
    if (segments.length > 1) {
      throw new UsageError(`${origin}: expected at most one path segment, got '${u.pathname}' in ${redactUrl(given)}`, {
        field: name,
        hint: `Fix or unset ${origin}.`,
      });
    }
    take(parts.path, decodeURIComponent(segments[0] ?? ''), 'the path');
    if (parts.tls !== undefined && v.tls_scheme !== undefined && !explicit(parts.tls)) {
      values[parts.tls] = u.protocol === `${v.tls_scheme}:`;
      sources[parts.tls] = sources[name]!;
    }
  }
  const host = String(values[parts.host]);
  const scheme = parts.tls !== undefined && values[parts.tls] === true && v.tls_scheme !== undefined ? v.tls_scheme : v.schemes[0]!;
  const path = parts.path !== undefined && values[parts.path] !== null && values[parts.path] !== undefined ? `/${values[parts.path]}` : '';
  values[name] = `${scheme}://${username ? `${username}@` : ''}${host.includes(':') ? `[${host}]` : host}:${values[parts.port]}${path}`;
  if (!given) sources[name] = 'derived';
}

function resolveExtraSnippet(def: ModuleDef, projectDir: string, env: NodeJS.ProcessEnv, cwd: string): ExtraSnippet | null {
  const prefix = `RAPIDKIT_${def.name.toUpperCase().replace(/-/g, '_')}_EXTRA_SNIPPET`;
  const get = (k: string) => {
    const v = env[k];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const src = get(prefix);
  const destRaw = get(`${prefix}_DEST`);
  const variantsRaw = get(`${prefix}_VARIANTS`);
  if (!src) {
    if (destRaw || variantsRaw)
      throw new UsageError(`${destRaw ? `${prefix}_DEST` : `${prefix}_VARIANTS`} is set but ${prefix} is not`, {
        hint: `Set ${prefix} to the file to copy, or unset the others.`,
      });
    return null;
  }
  const source = path.resolve(cwd, src);
  if (fs.existsSync(source) && !fs.statSync(source).isFile()) {
    throw new UsageError(`${prefix}: '${src}' is a folder, not a file`, {
      file: src,
      field: prefix,
      hint: `Point ${prefix} at one file inside it (relative paths start at the current folder).`,
    });
  }
  if (!fs.existsSync(source)) {
    throw new UsageError(`${prefix}: snippet file '${src}' does not exist`, {
      field: prefix,
      file: src,
      hint: `Point ${prefix} at an existing file (relative paths start at the current folder).`,
    });
  }
  let variants: string[] | null = null;
  if (variantsRaw) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(variantsRaw);
    } catch {
      throw new UsageError(
        `${prefix}_VARIANTS: expected a JSON list of frameworks like ${JSON.stringify(Object.keys(def.frameworks).slice(0, 2))}, got '${variantsRaw}'`,
        {
          hint: `Available frameworks: ${Object.keys(def.frameworks).join(', ')}`,
        },
      );
    }
    const list = typeof parsed === 'string' ? [parsed] : parsed;
    if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) {
      throw new UsageError(`${prefix}_VARIANTS: expected a JSON list of framework names, got '${variantsRaw}'`, {
        hint: `Example: ${JSON.stringify(Object.keys(def.frameworks).slice(0, 1))}`,
      });
    }
    const unknown = list.filter((x) => !(x in def.frameworks));
    if (unknown.length)
      throw new UsageError(
        `${prefix}_VARIANTS: unknown framework(s) ${unknown.join(', ')}. Available frameworks: ${Object.keys(def.frameworks).join(', ')}`,
      );
    variants = list as string[];
  }
  const dest = destRaw ?? `extras/${path.basename(source)}`;
  const destPosix = toPosix(dest);
  if (!isInside(destPosix)) {
    throw new UsageError(`${prefix}_DEST: '${dest}' is outside the project`, {
      hint: 'Use a relative path inside the project, without "..".',
    });
  }
  const normalized = path.posix.normalize(destPosix);
  assertNoSymlinkEscape(projectDir, normalized, `${prefix}_DEST`);
  return { source, dest: normalized, variants };
}

/**
 * Refuses a destination that goes through a link leading outside the project, or a dangling one (the containment
 * rule of every write, contain.ts), naming the variable it came from. Links that stay inside are followed.
 */
export function assertNoSymlinkEscape(projectDir: string, rel: string, origin: string): void {
  try {
    resolveTargets(projectDir, [rel]);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    throw new UsageError(`${origin}: '${rel}' goes through a symlink that is unsafe: ${e.message}`, {
      code: e.code,
      file: e.file,
      field: origin,
      hint: e.hint,
    });
  }
}

/** The options a lock and a snapshot manifest record: what the user supplied (secrets by reference) + project name. */
export function recordedOptions(opts: ResolvedOptions): Record<string, unknown> {
  // project_name always: it decides the slug and key prefix, and the folder name differs between checkouts
  const all: Record<string, unknown> = { project_name: opts.vars.project_name, ...opts.inputs };
  return Object.fromEntries(Object.entries(all).sort(([a], [b]) => a.localeCompare(b)));
}

/** Options recorded in a lock or manifest → `--set` pairs (secrets get a placeholder: they never reach the snapshot). */
export function setsFromRecorded(options: Record<string, unknown>): string[] {
  return Object.entries(options).map(([k, v]) =>
    v !== null && typeof v === 'object' && (v as { secret?: boolean }).secret ? `${k}=gen-secret-placeholder` : `${k}=${String(v)}`,
  );
}
