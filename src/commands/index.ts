import type { Command } from 'commander';

/** What a command file exports: it declares its own arguments and options (with their zod schema) and its action. */
export interface CommandModule {
  define(cmd: Command): void;
}

export interface CommandEntry {
  /** Words that invoke it, after `gen`. */
  path: [string] | [string, string];
  description: string;
  /** Loaded only when this command runs (or shows its help). */
  load: () => Promise<CommandModule>;
}

/** Groups (`gen add …`, `gen modules …`) and their one-line descriptions. */
export const GROUPS: Record<string, string> = {
  add: 'Add something to a project',
  upgrade: 'Move an installed module to a newer version, keeping your edits',
  remove: 'Take something out of a project',
  modules: 'Inspect and check modules',
};

/** Every command: the one home of its name and one-line description (cli.ts builds `gen --help` from it). */
export const COMMANDS: CommandEntry[] = [
  {
    path: ['add', 'module'],
    description: 'Render a module into the project: vendored runtime, thin wrappers, snippets',
    load: () => import('./add.js'),
  },
  {
    path: ['upgrade', 'module'],
    description: 'Move an installed module to the catalogue version: new snapshot, 3-way merge of your edited wrappers and snippets',
    load: () => import('./upgrade.js'),
  },
  {
    path: ['remove', 'module'],
    description: 'Take a module out: snapshot, wrappers, snippet blocks, the package.json entries gen added, its lock entry',
    load: () => import('./remove.js'),
  },
  { path: ['modules', 'list'], description: 'List the modules in the catalogue', load: () => import('./modules-list.js') },
  {
    path: ['modules', 'info'],
    description: 'Versions, frameworks, variables with defaults, docs of a module',
    load: () => import('./modules-info.js'),
  },
  {
    path: ['modules', 'lock'],
    description: 'Write .rapidkit/modules.lock.yaml from what is installed (gen add keeps it current)',
    load: () => import('./modules-lock.js'),
  },
  {
    path: ['modules', 'verify-all'],
    description: 'Re-hash every vendored file and regenerate each module from the lock; fail on any drift (for CI)',
    load: () => import('./modules-verify.js'),
  },
  {
    path: ['modules', 'vet'],
    description: 'Check module definitions: schema, templates, variables, docs, changelog, content hash vs version',
    load: () => import('./modules-vet.js'),
  },
];
