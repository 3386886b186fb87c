import type * as z from 'zod';

/** A zod issue as gen reports it: the field path as a user writes it (`frameworks.<id>.wrappers[0].path`) and what was expected. */
export function describeIssue(issue: z.core.$ZodIssue): { field: string; message: string } {
  const at = [...issue.path];
  let message = issue.message;
  if (issue.code === 'invalid_type') message = `expected ${issue.expected}${issue.input === undefined ? ' (missing)' : ''}`;
  else if (issue.code === 'unrecognized_keys') {
    message = `unknown key(s) ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
    if (issue.keys.length === 1) at.push(issue.keys[0]!);
  } else if (issue.code === 'invalid_value') message = `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  else if (issue.code === 'invalid_union') message = 'expected a variable with type string, integer, number or boolean';
  else if (issue.code === 'invalid_format' || issue.code === 'custom') message = `expected ${issue.message}`;
  let field = '';
  for (const seg of at) field += typeof seg === 'number' ? `[${seg}]` : field ? `.${String(seg)}` : String(seg);
  return { field: field || '(root)', message };
}
