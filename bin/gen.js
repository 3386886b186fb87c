#!/usr/bin/env node
// Tiny launcher: the CLI lives in dist/ (built from src/ by `npm run build`); commands load lazily.
import('../dist/cli.js').then(
  (cli) => cli.main(process.argv),
  (err) => {
    if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli.js')) {
      console.error('gen is not built yet: run `npm ci && npm run build` in the gen folder.');
      process.exit(2);
    }
    throw err;
  },
);
