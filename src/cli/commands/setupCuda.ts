// `ftlab setup-cuda`: installs the ONNX Runtime CUDA provider that pairs with the installed
// onnxruntime-node, checks the pairing, and says what else CUDA training needs here.

import { resolve } from 'node:path';
import { UsageError, type CliCommand } from '../command';
import { choice, parseFlags } from '../flags';
import { CLI_DEVICE_WORDS } from '../deviceWords';
import { SetupCudaError, checkPairing, cudaGaps, probeCuda, setupCuda, wordGap } from '../../engine';

const usage = `Usage: ftlab setup-cuda [--cuda 13|12] [--from <file.tgz|folder>] [--check]

Installs libonnxruntime_providers_cuda.so and libonnxruntime_providers_shared.so next to
onnxruntime-node's libonnxruntime.so.1: the build of the same ONNX Runtime release (ONNX Runtime
does not check this itself; a mismatch breaks silently). The files' sha256 is checked against the
pinned build before anything is replaced, and the build is recorded (ftlab-cuda-provider.json).

  --cuda 13     (default) the CUDA 13 build, from the npm registry through npm
                (com.github.asus4.onnxruntime.linux-x64-gpu, a Unity plugin package, MIT; ~160 MB).
                Needs the CUDA 13 runtime libraries, cuDNN 9 and a driver for CUDA 13 (580+).
  --cuda 12     the CUDA 12 build: Microsoft's NuGet package Microsoft.ML.OnnxRuntime.Gpu.Linux of
                the same version, which onnxruntime-node's own install script fetches (needs
                api.nuget.org). For a machine with CUDA 12 libraries and a driver older than 580.
  --from <x>    offline: the npm package's .tgz (npm pack ... elsewhere), or a folder holding the two
                files (for --cuda 12: the NuGet package's runtimes/linux-x64/native, unzipped)
  --check       install nothing: say which build is installed and whether it pairs

Afterwards \`ftlab doctor\` lists the CUDA libraries, driver and GPUs; --device auto uses CUDA when
all are there.`;

export const setupCudaCommand: CliCommand = {
  name: 'setup-cuda',
  summary: 'Install the CUDA provider that pairs with onnxruntime-node, and check the pairing',
  usage,
  async run(argv) {
    const { flags: f, positionals } = parseFlags(argv, { cuda: 'string', from: 'string', check: 'boolean' } as const);
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const major = Number(choice('cuda', f.cuda, ['13', '12'] as const, '13'));
    const say = (s: string) => process.stderr.write(s + '\n');
    if (f.check) {
      const probe = probeCuda({ quick: true });
      const p = await checkPairing(probe.providerDir, { ortVersion: probe.ortVersion, hash: true });
      const dir = probe.providerDir;
      console.log(p.state === 'paired' ? `paired: the CUDA ${p.build.cudaMajor} build for onnxruntime-node ${p.build.ortVersion} (${p.how === 'sha256' ? 'sha256 of the pinned build' : "setup-cuda's record, sha256 matching"}) in ${dir}`
        : p.state === 'missing' ? `not installed: ${p.files.join(', ')} missing in ${dir}; run ftlab setup-cuda`
          : p.state === 'mismatch' ? `mismatch: installed for onnxruntime-node ${p.recorded}, this is ${p.installed ?? 'another'}; run ftlab setup-cuda`
            : `unknown build in ${dir} (not recorded by this release: placed by hand, or by onnxruntime-node's install script); run ftlab setup-cuda to install the pinned one`);
      return p.state === 'paired' ? 0 : 1;
    }
    try {
      const res = await setupCuda({ cudaMajor: major, from: f.from ? resolve(f.from) : undefined, onLog: say });
      if (res.pairing.state !== 'paired') {
        say(`ftlab setup-cuda: the files are in place but do not check out as the pinned build (${res.pairing.state})`);
        return 1;
      }
      const gaps = cudaGaps(probeCuda());
      if (gaps.length) {
        say('Still missing for CUDA training here:');
        for (const g of gaps) say(`  - ${wordGap(g, CLI_DEVICE_WORDS)}`);
      } else say('CUDA training can work here: --device auto will use it.');
      return 0;
    } catch (err) {
      if (!(err instanceof SetupCudaError)) throw err;
      say(`ftlab setup-cuda: ${err.message}`);
      return 1;
    }
  },
};
