// `ftlab export`: a run's trained weights -> the base model's Hugging Face layout (transformers
// loads it), or an ONNX inference model.

import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  exportOnnx, saveRunAsHf, CheckpointError, peftAdapterConfig, peftKey, writeSafetensors, writeFileAtomic, loadTrainedRun,
} from '../../engine';
import { UsageError, type CliCommand } from '../command';
import { choice, parseFlags, userMessage } from '../flags';

const usage = `Usage: ftlab export --run <run-dir> --format <hf|onnx|peft> --out <dir>

  --format hf     config.json + model.safetensors + the base model's tokenizer files, in the base
                  model's Hugging Face layout (transformers' from_pretrained loads it)
  --format onnx   an ONNX inference model with a KV cache that plain onnxruntime runs
                  (--out <dir> writes <dir>/model.onnx; --out <file.onnx> writes that file)
  --format peft   a LoRA run's adapters as PEFT files (adapter_config.json, adapter_model.safetensors)
  (hf and onnx of a LoRA run carry the adapters merged into the weights)
  --dtype <F32|F16|BF16>   stored dtype of hf weights (default F32)`;

export const exportCommand: CliCommand = {
  name: 'export',
  summary: "Export a run's weights as a Hugging Face model folder or an ONNX model",
  usage,
  async run(argv) {
    const { flags: f, positionals } = parseFlags(argv, { run: 'string', format: 'string', out: 'string', dtype: 'string' } as const);
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    if (!f.run || !f.format || !f.out) throw new UsageError('--run, --format and --out are required');
    const dtype = choice('dtype', f.dtype, ['F32', 'F16', 'BF16'] as const, 'F32');
    try {
      const run = await loadTrainedRun(resolve(f.run));
      if (run.from === 'best') console.log(`exporting the best weights (step ${run.bestStep}): the run was stopped early`);
      const { lm, weights } = run;
      if (f.format === 'peft') {
        if (!run.lora) throw new UsageError('--format peft needs a LoRA run (--strategy lora)');
        const out = resolve(f.out);
        const shapeOf = (n: string) => { const t = run.lora!.targets.find((x) => x.A === n || x.B === n)!; return n === t.A ? [run.lora!.config.rank, t.inDim] : [t.outDim, run.lora!.config.rank]; };
        const adapters = new Map(run.lora.targets.flatMap((t) => [t.A, t.B].map((n) => [peftKey(n), { shape: shapeOf(n), data: run.raw.get(n)! }])));
        mkdirSync(out, { recursive: true });
        await writeSafetensors(join(out, 'adapter_model.safetensors'), adapters, { metadata: { format: 'pt' } });
        writeFileAtomic(join(out, 'adapter_config.json'), JSON.stringify(peftAdapterConfig(run.lora.config, run.baseModelDir, lm.family), null, 2) + '\n');
        console.log(`wrote ${out}: adapter_model.safetensors (${adapters.size} tensors), adapter_config.json`);
        return 0;
      }
      if (f.format === 'hf') {
        const { files } = await saveRunAsHf(run, resolve(f.out), dtype);
        console.log(`wrote ${resolve(f.out)}: ${files.join(', ')}`);
        return 0;
      }
      if (f.format === 'onnx') {
        const path = resolve(f.out).endsWith('.onnx') ? resolve(f.out) : join(resolve(f.out), 'model.onnx');
        mkdirSync(dirname(path), { recursive: true });
        const r = exportOnnx(lm, weights, path);
        console.log(`wrote ${r.path} (${(r.bytes / 2 ** 20).toFixed(1)} MiB): inputs ${r.inputs.join(', ')}; outputs ${r.outputs.join(', ')}; batch ${r.batch}, chunk ${r.chunk}, cache capacity ${r.capacity}`);
        return 0;
      }
      throw new UsageError(`--format must be hf, onnx or peft, got '${f.format}'`);
    } catch (err) {
      const msg = userMessage(err, [CheckpointError]);
      if (msg === null) throw err;
      process.stderr.write(`ftlab export: ${msg}\n`);
      return 1;
    }
  },
};
