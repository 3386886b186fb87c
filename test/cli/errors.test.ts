import { expect, test } from 'vitest';
import { copyExample, runGen, snapshotTree } from '../helpers.js';

// One error vocabulary: every failure under --json is the documented object, with a code scripts can rely on.
test('errors carry a code in --json, argument errors included; nothing is written', async () => {
  const project = copyExample('fastapi', 'codes');
  const before = snapshotTree(project);
  const cases: Array<[string[], string, number]> = [
    [['add', 'module', 'nope', '--project', project], 'UNKNOWN_MODULE', 2],
    [['add', 'module', 'redis', '--project', project, '--framework', 'django'], 'UNKNOWN_FRAMEWORK', 2],
    [['add', 'module', 'redis', '--project', `${project}/missing`], 'NOT_FOUND', 2],
    [['add', 'module', 'redis', '--project', project, '--set', 'cache_ttl=-1'], 'USAGE', 2],
    [['add', 'module', 'redis', '--project', project, '--bogus'], 'USAGE', 2],
    [['add', 'module', '--project', project], 'USAGE', 2],
    [['modules', 'verify-all', '--project', project], 'NOT_FOUND', 2],
    [['modules', 'info', 'redis', 'extra'], 'USAGE', 2],
  ];
  for (const [args, code, exitCode] of cases) {
    const r = await runGen([...args, '--json']);
    expect(r.code, args.join(' ')).toBe(exitCode);
    const body = JSON.parse(r.stdout);
    expect(Object.keys(body), args.join(' ')).toEqual(['error', 'code', 'exitCode', 'file', 'field', 'hint']);
    expect(body, args.join(' ')).toMatchObject({ code, exitCode });
    expect(body.hint, args.join(' ')).toBeTruthy();
  }
  expect(snapshotTree(project)).toEqual(before);
});
