// `ftlab estimate`: a training run's peak memory before anything is allocated, from the same flags
// as `ftlab train` (the model's config.json and the data's longest example; no weights are read).

import { UsageError, type CliCommand } from '../command';
import { parseFlags, userMessage } from '../flags';
import { CheckpointError, DataError, DataValidationError, TokenizerError, estimateFineTuneMemory, formatBytes } from '../../engine';
import { TRAIN_FLAGS, trainSettings } from './train';

const usage = `Usage: ftlab estimate --model <dir> --data <file> [training options] [--json]

The peak memory of \`ftlab train\` with the same options, before anything is allocated: the model's
weights, the trained parameters' gradients and optimizer state (AdamW m and v), the step's
activations (attention scores are [batch, heads, T, T] per layer), ONNX Runtime's own copies and
the process's baseline. Takes every option of \`ftlab train\` (--out is not needed); the sequence
length is the data's longest example. \`ftlab train\` prints the same estimate at its start and
refuses a run that does not fit in the memory available (the cgroup's limit where one is set, else
MemAvailable; FTLAB_AVAILABLE_MEMORY=8G overrides both).

  --json    {"peakBytes": n, "parts": {...}, "basis": {...}, "available": {"bytes": n, "source": s} | null}`;

export const estimate: CliCommand = {
  name: 'estimate',
  summary: 'Estimate the peak memory of a training run (same options as train)',
  usage,
  async run(argv) {
    const { flags: f, positionals } = parseFlags(argv, { ...TRAIN_FLAGS, json: 'boolean' } as const);
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    if (!f.model || !f.data) throw new UsageError('--model and --data are required');
    try {
      const { estimate: e, available } = await estimateFineTuneMemory(trainSettings(f));
      if (f.json) {
        console.log(JSON.stringify({ peakBytes: e.peakBytes, parts: e.parts, basis: e.basis, available }));
        return 0;
      }
      const rows: [string, number][] = [...Object.entries(e.parts), ['peak', e.peakBytes]];
      const width = Math.max(...rows.map(([k]) => k.length));
      const b = e.basis;
      console.log(`${b.parameters.toLocaleString('en-US')} parameters, ${b.trainedParameters.toLocaleString('en-US')} trained; batch ${b.batchSize} x ${b.accumulation}, sequence ${b.seqLen}, ${b.device}`);
      for (const [k, v] of rows) console.log(`${k === 'peak' ? '-'.repeat(width + 12) + '\n' : ''}${k.padEnd(width)}  ${formatBytes(v).padStart(10)}`);
      console.log(available ? `available ${formatBytes(available.bytes)} (${available.source}): ${e.peakBytes <= available.bytes ? 'fits' : 'does not fit; ftlab train would refuse it'}` : 'available memory: not reported by this system');
      return 0;
    } catch (err) {
      const msg = userMessage(err, [CheckpointError, TokenizerError, DataError, DataValidationError]);
      if (msg === null) throw err;
      process.stderr.write(`ftlab estimate: ${msg}\n`);
      return 1;
    }
  },
};
