#!/usr/bin/env node
'use strict';
// The `ftlab` command: a thin launcher for the bundle that `npm run build` writes to dist/cli.js.
const path = require('node:path');

const bundle = path.join(__dirname, '..', 'dist', 'cli.js');
let cli;
try {
  cli = require(bundle);
} catch (error) {
  if (error && error.code === 'MODULE_NOT_FOUND' && String(error.message).includes(bundle)) {
    console.error(`ftlab: ${bundle} is missing: run "npm run build" in ${path.dirname(__dirname)} first.`);
    process.exit(1);
  }
  throw error;
}
cli.main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
