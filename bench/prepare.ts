// Data preparation at scale: generates a JSONL Q&A file (default 1 GB) in a temp folder, then runs
// prepareDataset on it in a child process with the GPT-2 tokenizer, and reports throughput and the
// child's peak RSS (the streaming promise: memory does not grow with the file).
//
//   node dist/bench-prepare.js [--size-mb 1024] [--dir /tmp] [--keep] [--json FILE]

import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { prepareDataset } from '../src/engine/data/prepareDataset';
import { uniformRng } from '../src/engine/random';
import { loadTokenizer } from '../src/engine/tokenizer';

function arg(name: string, dflt: string): string {
  const k = process.argv.indexOf(`--${name}`);
  return k >= 0 && process.argv[k + 1] ? process.argv[k + 1]! : dflt;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

function repoRoot(): string {
  for (let d = __dirname; d !== dirname(d); d = dirname(d)) if (existsSync(join(d, 'package.json')) && existsSync(join(d, 'test', 'fixtures'))) return d;
  throw new Error('run from the repository (node dist/bench-prepare.js)');
}

const WORDS = ('the of and to in is was for on that with as by at from his her they have this which are be an or had not one all were but can ' +
  'there when what their been who more will would if so other its some time into than out only also may first new like how many where why ' +
  'capital river mountain protein energy function network history language number system process water light market theory music ' +
  'France Paris Berlin photosynthesis mitochondria algorithm gradient transformer tokenizer database Shakespeare 1969 3.14 42 2024').split(' ');

/** Writes about `bytes` of JSONL Q&A records with varied lengths and punctuation; returns the record count. */
function generate(file: string, bytes: number): number {
  const rand = uniformRng(1);
  const sentence = (n: number) => {
    const w: string[] = [];
    for (let i = 0; i < n; i++) w.push(WORDS[Math.floor(rand() * WORDS.length)]!);
    return w.join(' ');
  };
  const fd = openSync(file, 'w');
  let written = 0;
  let records = 0;
  const lines: string[] = [];
  while (written < bytes) {
    for (let k = 0; k < 2000; k++) {
      const q = `${sentence(8 + Math.floor(rand() * 20))}? (#${records})`;
      const a = `${sentence(20 + Math.floor(rand() * 100))}. ${sentence(5 + Math.floor(rand() * 20))}, "${sentence(3)}".`;
      lines.push(JSON.stringify({ question: q, answer: a }));
      records++;
    }
    const chunk = Buffer.from(lines.join('\n') + '\n');
    lines.length = 0;
    writeSync(fd, chunk);
    written += chunk.length;
  }
  closeSync(fd);
  return records;
}

/** Child: prepare and report. */
async function child(file: string, tokenizerDir: string, outDir: string): Promise<void> {
  const tokenizer = await loadTokenizer(tokenizerDir);
  let peak = 0;
  let read = 0;
  const total = statSync(file).size;
  const timeline: string[] = []; // RSS at each tenth of the file: flat when streaming works
  const timer = setInterval(() => {
    const rss = process.memoryUsage().rss;
    peak = Math.max(peak, rss);
    if (read >= (timeline.length + 1) * total / 10) timeline.push(`${timeline.length + 1}0%:${Math.round(rss / 2 ** 20)}`);
  }, 100);
  const t0 = performance.now();
  const r = await prepareDataset({ source: file, tokenizer, outDir, maxLength: 1024, onProgress: (p) => { read = p.bytesRead; } });
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(timer);
  const maxRssMB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(JSON.stringify({ seconds, examples: r.manifest.counts.examples, tokens: r.manifest.stats.all.tokens, sampledPeakRssMB: peak / 2 ** 20, maxRssMB, timeline: timeline.join(' ') }));
}

async function main(): Promise<void> {
  if (flag('child')) return child(arg('file', ''), arg('tokenizer', ''), arg('out', ''));
  const sizeMB = Number(arg('size-mb', '1024'));
  const work = mkdtempSync(join(arg('dir', tmpdir()), 'ftlab-bench-prepare-'));
  try {
    const tokenizerDir = join(work, 'gpt2');
    mkdirSync(tokenizerDir);
    const fixtures = join(repoRoot(), 'test', 'fixtures', 'tokenizers', 'gpt2');
    writeFileSync(join(tokenizerDir, 'tokenizer.json'), gunzipSync(readFileSync(join(fixtures, 'tokenizer.json.gz'))));
    writeFileSync(join(tokenizerDir, 'tokenizer_config.json'), readFileSync(join(fixtures, 'tokenizer_config.json')));
    const file = join(work, 'qa.jsonl');
    let t = performance.now();
    const records = generate(file, sizeMB * 2 ** 20);
    const bytes = statSync(file).size;
    console.error(`generated ${(bytes / 2 ** 20).toFixed(0)} MiB, ${records} records in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    t = performance.now();
    const run = spawnSync(process.execPath, [__filename, '--child', '--file', file, '--tokenizer', tokenizerDir, '--out', join(work, 'out')], { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (run.status !== 0) throw new Error(`prepare failed:\n${run.stderr}`);
    const r = JSON.parse(run.stdout) as { seconds: number; examples: number; tokens: number; sampledPeakRssMB: number; maxRssMB: number; timeline: string };
    const outBytes = ['tokens.bin', 'examples.bin', 'ranges.bin', 'splits.bin'].reduce((n, f) => n + statSync(join(work, 'out', f)).size, 0);
    const result = {
      inputMiB: Math.round(bytes / 2 ** 20), records, examples: r.examples, tokens: r.tokens, seconds: Math.round(r.seconds * 10) / 10,
      mibPerSecond: Math.round((bytes / 2 ** 20 / r.seconds) * 10) / 10, recordsPerSecond: Math.round(r.examples / r.seconds),
      tokensPerSecond: Math.round(r.tokens / r.seconds), peakRssMiB: Math.round(r.maxRssMB), rssMiBByProgress: r.timeline, outputMiB: Math.round(outBytes / 2 ** 20),
      node: process.version, cpus: (await import('node:os')).cpus().length,
    };
    console.log(JSON.stringify(result, null, 2));
    const json = arg('json', '');
    if (json) writeFileSync(json, JSON.stringify(result, null, 2) + '\n');
  } finally {
    if (!flag('keep')) rmSync(work, { recursive: true, force: true });
    else console.error(`kept ${work}`);
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
