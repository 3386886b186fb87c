import * as z from 'zod';
import { isRelPath, NAME } from './rules.js';

const semverString = z.string().regex(/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/, 'a semantic version like 1.2.3');
const relPath = z.string().min(1).refine(isRelPath, 'a relative path without ".."');

export const catalogueSchema = z.strictObject({
  catalogue: z.literal(1),
  modules: z.array(z.strictObject({ name: z.string().regex(NAME), path: relPath, summary: z.string().optional() })).min(1),
});
export type Catalogue = z.infer<typeof catalogueSchema>;

const variableBase = {
  description: z.string().optional(),
  override: z
    .string()
    .regex(/^[A-Z][A-Z0-9_]*$/)
    .optional(),
  secret: z.boolean().optional(),
};
export const variableSchema = z.discriminatedUnion('type', [
  z.strictObject({
    ...variableBase,
    type: z.literal('string'),
    default: z.string().nullable(),
    pattern: z.string().optional(),
    /** The only values accepted (checked before `pattern`). */
    choices: z.array(z.string()).min(1).optional(),
  }),
  z.strictObject({
    ...variableBase,
    type: z.literal('integer'),
    default: z.number().int().nullable(),
    min: z.number().optional(),
    max: z.number().optional(),
  }),
  z.strictObject({
    ...variableBase,
    type: z.literal('number'),
    default: z.number().nullable(),
    min: z.number().optional(),
    max: z.number().optional(),
  }),
  z.strictObject({ ...variableBase, type: z.literal('boolean'), default: z.boolean().nullable() }),
]);
export type VariableDef = z.infer<typeof variableSchema>;

const scalar = z.union([z.string(), z.number(), z.boolean()]);
/** `when: { variable: value | [values] }`: rendered only when every named variable has (one of) the given value(s). */
export const whenSchema = z.record(z.string(), z.union([scalar, z.array(scalar).min(1)]));
export type When = z.infer<typeof whenSchema>;

export const frameworkSchema = z.strictObject({
  label: z.string(),
  language: z.enum(['python', 'node']),
  /** A rule matches when `file` exists, contains `contains` (when given) and does not contain `unless`. */
  detect: z.array(z.strictObject({ file: relPath, contains: z.string().min(1).optional(), unless: z.string().min(1).optional() })).min(1),
  /** Detected only when no other framework is (e.g. plain Node for a package.json that names no framework). */
  fallback: z.boolean().optional(),
  vendor: z.array(z.strictObject({ from: relPath, to: relPath })).min(1),
  wrappers: z.array(z.strictObject({ template: relPath, path: relPath, when: whenSchema.optional() })),
  snippets: z.array(z.string()),
  package_json: z.strictObject({ dependencies: z.record(z.string(), z.string()) }).optional(),
});
export type FrameworkDef = z.infer<typeof frameworkSchema>;

export const snippetSchema = z.strictObject({
  target: relPath,
  template: relPath,
  anchor: z.string().optional(),
  create: z.boolean().optional(),
  append: z.boolean().optional(),
  header: z.string().optional(),
  indent: z.string().optional(),
  when_exists: z.boolean().optional(),
  secrets: z.boolean().optional(),
  manual: z.string().optional(),
  /** KEY=VALUE files: leave out block lines whose key the file already defines outside the markers. */
  skip_existing_keys: z.boolean().optional(),
  when: whenSchema.optional(),
});
export type SnippetDef = z.infer<typeof snippetSchema>;

export const moduleSchema = z
  .strictObject({
    name: z.string().regex(NAME),
    version: semverString,
    description: z.string().min(1),
    templates: relPath,
    build: z.strictObject({ outputs: z.array(relPath), command: z.string() }).optional(),
    compatibility: z.record(z.string(), z.string()),
    variables: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/), variableSchema),
    frameworks: z.record(z.string().regex(NAME), frameworkSchema),
    snippets: z.record(z.string(), snippetSchema),
    documentation: z.record(z.string(), relPath),
    changelog: z.array(z.strictObject({ version: semverString, date: z.string(), summary: z.string() })).min(1),
  })
  .superRefine((m, ctx) => {
    for (const [fw, def] of Object.entries(m.frameworks)) {
      def.snippets.forEach((id, i) => {
        if (!(id in m.snippets)) {
          ctx.addIssue({
            code: 'custom',
            path: ['frameworks', fw, 'snippets', i],
            message: `unknown snippet '${id}'; expected one of: ${Object.keys(m.snippets).join(', ')}`,
          });
        }
      });
    }
    const checkWhen = (when: When | undefined, at: PropertyKey[]) => {
      for (const name of Object.keys(when ?? {})) {
        if (!(name in m.variables)) {
          ctx.addIssue({
            code: 'custom',
            path: [...at, 'when', name],
            message: `a declared variable (one of: ${Object.keys(m.variables).join(', ')})`,
          });
        }
      }
    };
    for (const [fw, def] of Object.entries(m.frameworks))
      def.wrappers.forEach((w, i) => checkWhen(w.when, ['frameworks', fw, 'wrappers', i]));
    for (const [name, v] of Object.entries(m.variables)) {
      if (v.type === 'string' && v.choices && v.default !== null && !v.choices.includes(v.default)) {
        ctx.addIssue({ code: 'custom', path: ['variables', name, 'default'], message: `one of the choices (${v.choices.join(', ')})` });
      }
    }
    for (const [id, s] of Object.entries(m.snippets)) {
      checkWhen(s.when, ['snippets', id]);
      if (s.anchor !== undefined) {
        try {
          new RegExp(s.anchor);
        } catch {
          ctx.addIssue({ code: 'custom', path: ['snippets', id, 'anchor'], message: 'a valid regular expression' });
        }
      }
    }
  });
export type ModuleDef = z.infer<typeof moduleSchema>;
