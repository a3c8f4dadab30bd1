// `ftlab doctor [--json]`: what this machine offers Fine-Tune Lab (versions, execution providers,
// the CUDA provider, libraries, driver, GPUs, CPU) and what --device auto picks, with the fixes.

import { version as packageVersion } from '../../../package.json';
import { UsageError, type CliCommand } from '../command';
import { parseFlags } from '../flags';
import { CLI_DEVICE_WORDS } from '../deviceWords';
import { machineReport, wordGap, type MachineReport } from '../../engine';

const usage = `Usage: ftlab doctor [--json] [--no-hash]

Reports the versions (Fine-Tune Lab, Node.js, onnxruntime-node), the execution providers ONNX
Runtime was built with, the CUDA provider files next to libonnxruntime.so.1 (and whether they are
the build that pairs with this onnxruntime-node), the CUDA libraries the provider loads (where the
loader finds them, where else they lie, where it looked), the NVIDIA driver and CUDA version needed
and found, the GPUs and their memory, the CPU (model, AVX2 / AVX-512, threads), and the device
--device auto picks here with the reason. Exit code 0 either way.

  --json      one JSON object (format "ftlab-doctor", version 1) instead of text
  --no-hash   skip the sha256 check of the provider files (about a second for 400 MB)`;

const yes = (b: boolean) => (b ? 'yes' : 'no');

export function formatMachineReport(r: MachineReport): string {
  const c = r.cuda;
  const lines: string[] = [];
  lines.push(`Fine-Tune Lab ${r.versions.finetuneLab}, Node.js ${r.versions.node}, onnxruntime-node ${r.versions.onnxruntimeNode ?? 'not found'} (${r.platform})`);
  const f = r.cpu.features;
  lines.push(`CPU: ${r.cpu.model}, ${r.cpu.threads} threads${f ? `; AVX2 ${yes(f.avx2)}, FMA ${yes(f.fma)}, AVX-512 ${yes(f.avx512f)}${f.avx512f ? ` (BW ${yes(f.avx512bw)}, VNNI ${yes(f.avx512vnni)}, BF16 ${yes(f.avx512bf16)})` : ''}, AMX ${yes(f.amxTile)}` : ''}`);
  const rt = r.trainingRuntime;
  lines.push(`Training runtime: ${rt.name === 'bound' ? `the IO-binding addon (${rt.addon}): parameters and optimizer state updated in place` : `onnxruntime-node's run(), which copies the parameters every step (the addon: ${rt.reason})`}`);
  lines.push(`Execution providers in onnxruntime-node: ${r.executionProviders.map((p) => `${p.name}${p.bundled ? '' : ' (needs its provider files)'}`).join(', ') || 'none (onnxruntime-node did not load)'}`);
  const missing = c.provider.files.filter((x) => !x.present).map((x) => x.name);
  const pr = c.provider.pairing;
  const pairing = pr.state === 'paired' ? `the CUDA ${pr.build.cudaMajor} build that pairs with onnxruntime-node ${pr.build.ortVersion} (${pr.how === 'sha256' ? 'sha256 checked' : "setup-cuda's record"})`
    : pr.state === 'mismatch' ? `installed for onnxruntime-node ${pr.recorded}, not ${pr.installed ?? 'this one'}`
      : pr.state === 'unknown' ? `present, not a build this release has recorded (CUDA ${c.provider.cudaMajor ?? '?'} by its libraries)` : 'missing';
  lines.push(`CUDA provider (${c.provider.dir}): ${missing.length ? `missing ${missing.join(', ')}` : pairing}`);
  lines.push(`  pairs with this onnxruntime-node: ${c.pinned.map((b) => `CUDA ${b.cudaMajor} build from ${b.source} (driver ${b.minDriver}+)`).join('; ') || 'no build recorded for this version'}`);
  lines.push(`CUDA libraries the provider loads${c.provider.cudaMajor === null ? ' (CUDA 13 build assumed)' : ''}:`);
  for (const l of c.libraries) lines.push(`  ${l.name.padEnd(20)} ${l.path ?? `MISSING${l.elsewhere.length ? ` (off the loader's path: ${l.elsewhere.join(', ')})` : ''}`}`);
  if (c.loaderPath.length) lines.push(`  loader path: ${c.loaderPath.join(', ')}`);
  if (c.lookedElsewhere.length) lines.push(`  also looked in: ${c.lookedElsewhere.join(', ')}`);
  const d = c.driver;
  lines.push(`NVIDIA driver: ${d.version ? `${d.version}${d.cudaVersion ? ` (CUDA ${d.cudaVersion})` : ''}, from ${d.source}` : 'not found'}${d.needed ? `; the CUDA ${d.needed.cudaMajor} build needs ${d.needed.minDriver} or newer` : ''}`);
  lines.push(`GPUs: ${c.gpus.length ? c.gpus.map((g) => `${g.index}: ${g.name}${g.memoryMiB ? ` (${g.memoryMiB} MiB)` : ''}`).join('; ') : 'none found'}`);
  lines.push(`--device auto: ${r.auto.reason}${r.auto.env ? ` (FTLAB_DEVICE=${r.auto.env})` : ''}`);
  if (c.gaps.length) {
    lines.push('For CUDA training:');
    for (const g of c.gaps) lines.push(`  - ${wordGap(g, CLI_DEVICE_WORDS)}`);
  } else lines.push('CUDA training can work here.');
  return lines.join('\n');
}

export const doctor: CliCommand = {
  name: 'doctor',
  summary: 'What this machine offers: versions, CUDA provider and libraries, driver, GPUs, CPU',
  usage,
  async run(argv) {
    const { flags: f, positionals } = parseFlags(argv, { json: 'boolean', 'no-hash': 'boolean' } as const);
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const r = await machineReport({ appVersion: packageVersion, hash: !f['no-hash'] });
    console.log(f.json ? JSON.stringify(r, null, 2) : formatMachineReport(r));
    return 0;
  },
};
