import * as z from '../util/zod.js';

/** zod/mini's functional style, named for readability */
const optionalString = () => z.optional(z.string());
const optionalBoolean = () => z.optional(z.boolean());
const nonEmpty = () => z.string().check(z.minLength(1));
/** A string matching `re` (zod's own message when it does not). */
const named = (re: RegExp) => z.string().check(z.regex(re));
/** An array of at least one item. */
const list = <T extends z.ZodMiniType>(item: T) => z.array(item).check(z.minLength(1));

const semverString = z.string().check(z.regex(/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/, 'a semantic version like 1.2.3'));
/** Module, framework and catalogue entry names. */
const NAME = /^[a-z][a-z0-9-]*$/;
/** A relative path inside its root: not absolute, no `..` segment. */
const relPath = z.string().check(
  z.minLength(1),
  z.refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'a relative path without ".."'),
);

export const catalogueSchema = z.strictObject({
  catalogue: z.literal(1),
  modules: list(z.strictObject({ name: named(NAME), path: relPath, summary: optionalString() })),
});
export type Catalogue = z.infer<typeof catalogueSchema>;

const variableBase = {
  description: optionalString(),
  /** When the value is null after resolution: this text with `{variable}` replaced, e.g. "{project_slug}:". */
  derive: optionalString(),
  override: z.optional(named(/^[A-Z][A-Z0-9_]*$/)),
  secret: optionalBoolean(),
};
export const variableSchema = z.discriminatedUnion('type', [
  z.strictObject({
    ...variableBase,
    type: z.literal('string'),
    default: z.nullable(z.string()),
    pattern: optionalString(),
    /** `hostname`: an RFC 1123 name, IPv4 or IPv6 address (nothing else a URL could misread). */
    format: z.optional(z.enum(['hostname'])),
    /** The only values accepted (checked before `pattern`). */
    choices: z.optional(list(z.string())),
  }),
  z.strictObject({
    ...variableBase,
    type: z.literal('integer'),
    default: z.nullable(z.number().check(z.int())),
    min: z.optional(z.number()),
    max: z.optional(z.number()),
  }),
  z.strictObject({
    ...variableBase,
    type: z.literal('number'),
    default: z.nullable(z.number()),
    min: z.optional(z.number()),
    max: z.optional(z.number()),
  }),
  z.strictObject({ ...variableBase, type: z.literal('boolean'), default: z.nullable(z.boolean()) }),
  /**
   * A connection URL kept consistent with its parts: a URL given by the user is split into the part variables
   * (those the user did not set themselves), otherwise it is composed from them. A password in it moves to the
   * secret `parts.password` variable and never stays in the URL. Query strings and fragments are refused.
   */
  z.strictObject({
    ...variableBase,
    type: z.literal('url'),
    default: z.nullable(z.string()),
    /** Accepted schemes; the first is used when composing without TLS. */
    schemes: list(named(/^[a-z][a-z0-9+.-]*$/)),
    /** The scheme that means TLS (composing with `parts.tls` true). */
    tls_scheme: optionalString(),
    parts: z.strictObject({
      host: z.string(),
      port: z.string(),
      /** The variable that holds the first path segment (a database number, a virtual host). */
      path: optionalString(),
      password: optionalString(),
      tls: optionalString(),
    }),
  }),
]);
export type VariableDef = z.infer<typeof variableSchema>;

const scalar = z.union([z.string(), z.number(), z.boolean()]);
/** `when: { variable: value | [values] }`: rendered only when every named variable has (one of) the given value(s). */
export const whenSchema = z.record(z.string(), z.union([scalar, list(scalar)]));
export type When = z.infer<typeof whenSchema>;

const textOrList = z.union([nonEmpty(), list(nonEmpty())]);

export const frameworkSchema = z.strictObject({
  label: z.string(),
  language: z.enum(['python', 'node']),
  /** A rule matches when `file` exists, contains `contains` (when given) and does not contain `unless`. */
  detect: list(
    z.strictObject({
      file: relPath,
      /** The file names the framework: this text, or any of these texts. */
      contains: z.optional(textOrList),
      /** …and none of these (e.g. a Nest app on Express is Nest). */
      unless: z.optional(textOrList),
      /** Compare without regard to letter case (`Django` and `django`). */
      ignore_case: optionalBoolean(),
    }),
  ),
  /** Detected only when no other framework is (e.g. plain Node for a package.json that names no framework). */
  fallback: optionalBoolean(),
  vendor: list(z.strictObject({ from: relPath, to: relPath })),
  wrappers: z.array(z.strictObject({ template: relPath, path: relPath, when: z.optional(whenSchema) })),
  snippets: z.array(z.string()),
  package_json: z.optional(z.strictObject({ dependencies: z.record(z.string(), z.string()) })),
});
export type FrameworkDef = z.infer<typeof frameworkSchema>;

export const snippetSchema = z.strictObject({
  target: relPath,
  template: relPath,
  anchor: optionalString(),
  create: optionalBoolean(),
  append: optionalBoolean(),
  header: optionalString(),
  indent: optionalString(),
  when_exists: optionalBoolean(),
  secrets: optionalBoolean(),
  manual: optionalString(),
  /** KEY=VALUE files: leave out block lines whose key the file already defines outside the markers. */
  skip_existing_keys: optionalBoolean(),
  when: z.optional(whenSchema),
});
export type SnippetDef = z.infer<typeof snippetSchema>;

export const moduleSchema = z
  .strictObject({
    name: named(NAME),
    version: semverString,
    description: nonEmpty(),
    templates: relPath,
    build: z.optional(z.strictObject({ outputs: z.array(relPath), command: z.string() })),
    compatibility: z.record(z.string(), z.string()),
    variables: z.record(named(/^[a-z][a-z0-9_]*$/), variableSchema),
    frameworks: z.record(named(NAME), frameworkSchema),
    snippets: z.record(z.string(), snippetSchema),
    documentation: z.record(z.string(), relPath),
    /**
     * How a wrapper names the snapshot version it loads: a regular expression whose first group is the version
     * (verify-all reports a wrapper pinned to a version the lock does not cover).
     */
    wrapper_pin: optionalString(),
    changelog: list(z.strictObject({ version: semverString, date: z.string(), summary: z.string() })),
  })
  .check(
    z.superRefine((m, ctx) => {
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
        if (v.type === 'url') {
          for (const [part, target] of Object.entries(v.parts)) {
            if (!(target in m.variables))
              ctx.addIssue({ code: 'custom', path: ['variables', name, 'parts', part], message: 'a declared variable' });
          }
          if (v.parts.password !== undefined && m.variables[v.parts.password]?.secret !== true)
            ctx.addIssue({ code: 'custom', path: ['variables', name, 'parts', 'password'], message: 'a variable with secret: true' });
          if (v.tls_scheme !== undefined && !v.schemes.includes(v.tls_scheme))
            ctx.addIssue({ code: 'custom', path: ['variables', name, 'tls_scheme'], message: 'one of the schemes' });
        }
        if ((v.type === 'integer' || v.type === 'number') && v.default !== null) {
          if (v.min !== undefined && v.default < v.min)
            ctx.addIssue({ code: 'custom', path: ['variables', name, 'default'], message: `a value >= min (${v.min})` });
          if (v.max !== undefined && v.default > v.max)
            ctx.addIssue({ code: 'custom', path: ['variables', name, 'default'], message: `a value <= max (${v.max})` });
        }
        if (v.type === 'string' && v.choices && v.default !== null && !v.choices.includes(v.default)) {
          ctx.addIssue({ code: 'custom', path: ['variables', name, 'default'], message: `one of the choices (${v.choices.join(', ')})` });
        }
      }
      if (m.wrapper_pin !== undefined) {
        let groups = -1;
        try {
          groups = new RegExp(`${m.wrapper_pin}|`).exec('')!.length - 1;
        } catch {
          /* reported below */
        }
        if (groups < 1)
          ctx.addIssue({ code: 'custom', path: ['wrapper_pin'], message: 'a valid regular expression with a group for the version' });
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
    }),
  );
export type ModuleDef = z.infer<typeof moduleSchema>;
