// `node dist/bench-memory.js`: the memory estimate against measured peak RSS, case by case
// (bench/memoryCases.ts): `ftlab estimate --json` beside the VmHWM of a short `ftlab train` child.
//
//   node dist/bench-memory.js [--cases name,name] [--cli dist/cli.js] [--steps 3] [--threads 2] [--json FILE]

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../src/engine/fsAtomic';
import { CASES, CaseResult, peakReporter, runCase } from './memoryCases';

function arg(name: string, dflt: string): string {
  const k = process.argv.indexOf(`--${name}`);
  return k >= 0 && process.argv[k + 1] ? process.argv[k + 1] : dflt;
}

const MiB = (b: number) => (b / 2 ** 20).toFixed(0);

async function main(): Promise<void> {
  const names = arg('cases', CASES.map((c) => c.name).join(',')).split(',');
  const cli = resolve(arg('cli', join(__dirname, 'cli.js')));
  const work = mkdtempSync(join(tmpdir(), 'ftlab-bench-memory-'));
  const preload = peakReporter(work);
  const results: CaseResult[] = [];
  try {
    for (const name of names) {
      const c = CASES.find((x) => x.name === name);
      if (!c) throw new Error(`unknown case '${name}'; cases: ${CASES.map((x) => x.name).join(', ')}`);
      const r = await runCase(c, { cli, work, steps: Number(arg('steps', '3')), threads: Number(arg('threads', '2')), preload });
      results.push(r);
      const parts = Object.entries(r.estimate.parts).map(([k, v]) => `${k} ${MiB(v as number)}`).join(', ');
      console.log(`${c.name.padEnd(22)} measured ${MiB(r.measuredBytes).padStart(6)} MiB  estimate ${MiB(r.estimate.peakBytes).padStart(6)} MiB  (${(100 * (r.ratio - 1)).toFixed(1)}%)  ${r.seconds.toFixed(1)} s  [${parts}]`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const json = arg('json', '');
  if (json) writeFileAtomic(json, JSON.stringify(results, null, 2) + '\n');
}

main().catch((e) => { console.error(e); process.exitCode = 1; });
