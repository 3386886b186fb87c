import fs from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import type * as z from '../util/zod.js';
import { UsageError } from '../errors.js';
import { describeIssue } from '../util/issues.js';
import { catalogueRoot, packageRoot } from '../util/paths.js';
import { sha256 } from '../util/sha256.js';
import { catalogueSchema, moduleSchema, type Catalogue, type ModuleDef } from './schema.js';

/** What `npm run build` validated ahead (dist/definitions.json): `<schema>:<sha256 of the YAML text>` → the result. */
export const PRECOMPILED = 'dist/definitions.json';
let precompiled: Record<string, unknown> | null | undefined;

function fromBuild(key: string): unknown {
  if (precompiled === undefined) {
    try {
      precompiled = JSON.parse(fs.readFileSync(path.join(packageRoot(), PRECOMPILED), 'utf8')) as Record<string, unknown>;
    } catch {
      precompiled = null; // running from source, or not built: parse and validate every time
    }
  }
  return precompiled?.[key];
}

/** The build's cache key of a YAML text for a schema (`catalogue` or `module`). */
export function definitionKey(schema: 'catalogue' | 'module', text: string): string {
  return `${schema}:${sha256(text)}`;
}

/**
 * Reads and validates a YAML file; a problem names the file, the field path and what was expected. A text that
 * `npm run build` already parsed and validated (content-addressed: any copy of the shipped catalogue's files counts)
 * is taken from dist/definitions.json: the same yaml and zod made it, without their cost at every start.
 */
export function readYaml<S extends z.ZodMiniType>(file: string, schema: S, shown: string): z.infer<S> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new UsageError(`${shown}: file not found`, {
      code: 'NOT_FOUND',
      file: shown,
      hint: 'Check the path, or set GEN_CATALOGUE to the folder that holds the catalogue module.yaml.',
    });
  }
  const known = fromBuild(definitionKey((schema as z.ZodMiniType) === catalogueSchema ? 'catalogue' : 'module', text));
  if (known !== undefined) return known as z.infer<S>;
  return parseYaml(text, schema, shown);
}

/** YAML text through `yaml` and the schema (what the build does ahead for the shipped catalogue). */
export function parseYaml<S extends z.ZodMiniType>(text: string, schema: S, shown: string): z.infer<S> {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new UsageError(`${shown}: invalid YAML: ${e.message.split('\n')[0]}`, {
      code: 'INVALID_DEFINITION',
      file: shown,
      hint: 'Fix the YAML syntax at the reported line.',
    });
  }
  const result = schema.safeParse(doc.toJS());
  if (!result.success) {
    const { field, message } = describeIssue(result.error.issues[0]!);
    const more = result.error.issues.length > 1 ? ` (and ${result.error.issues.length - 1} more problem(s))` : '';
    throw new UsageError(`${shown}: field '${field}': ${message}${more}`, {
      code: 'INVALID_DEFINITION',
      file: shown,
      field,
      hint: `Fix '${field}' in ${shown}; 'gen modules vet' checks the whole definition.`,
    });
  }
  return result.data;
}

export interface LoadedModule {
  def: ModuleDef;
  /** Absolute path of the module.yaml. */
  file: string;
  /** Path shown to users (relative to the catalogue root). */
  shown: string;
  root: string;
  templatesDir: string;
}

export function loadCatalogue(root = catalogueRoot()): Catalogue {
  return readYaml(path.join(root, 'module.yaml'), catalogueSchema, 'module.yaml');
}

export function loadModule(name: string, root = catalogueRoot()): LoadedModule {
  const cat = loadCatalogue(root);
  const entry = cat.modules.find((m) => m.name === name);
  if (!entry) {
    throw new UsageError(`Unknown module '${name}'. Available modules: ${cat.modules.map((m) => m.name).join(', ')}`, {
      code: 'UNKNOWN_MODULE',
      hint: "Run 'gen modules list' to see the catalogue.",
    });
  }
  const file = path.join(root, entry.path);
  const def = readYaml(file, moduleSchema, entry.path);
  if (def.name !== name) {
    throw new UsageError(`${entry.path}: field 'name': expected '${name}' (the catalogue's name for it), found '${def.name}'`, {
      code: 'INVALID_DEFINITION',
      file: entry.path,
      field: 'name',
    });
  }
  return { def, file, shown: entry.path, root, templatesDir: path.join(root, def.templates) };
}
