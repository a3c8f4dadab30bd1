// Where the repository is, seen from a bundled test in out/test/<folder>/.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

function findRoot(start: string): string {
  for (let dir = start; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'scripts', 'build.mjs'))) return dir;
  }
  throw new Error(`no repository root above ${start}`);
}

export const repoRoot = findRoot(__dirname);
