#!/usr/bin/env node
// Tiny launcher: the CLI lives in dist/ (built from src/ by `npm run build`); commands load lazily.
import('../dist/cli.js').then(
  async (cli) => {
    await cli.main(process.argv);
    // The command is done (main has set process.exitCode): leave once what it printed is flushed, rather than wait
    // for idle worker threads to wind down and the heap to be torn down at leisure.
    process.stdout.write('', () => process.stderr.write('', () => process.exit()));
  },
  (err) => {
    if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli.js')) {
      console.error('gen is not built yet: run `npm ci && npm run build` in the gen folder.');
      process.exit(2);
    }
    throw err;
  },
);
