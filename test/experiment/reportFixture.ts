// A realistic experiment report for the report tests: five variants (one failed, one still pending),
// a missing figure with its reason, categories, samples and loss curves of different lengths.

import type { ExperimentReport, Proportion, VariantReport } from '../../src/engine/experiment/report';

/** correct/total with its 95% Wilson interval (written out here, not taken from the code under test). */
export function prop(correct: number, total: number): Proportion {
  const z = 1.959964;
  const p = correct / total;
  const z2n = (z * z) / total;
  const centre = (p + z2n / 2) / (1 + z2n);
  const half = (z * Math.sqrt((p * (1 - p)) / total + z2n / (4 * total))) / (1 + z2n);
  return { correct, total, fraction: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/** A loss curve that falls from `start` towards `end` with a little deterministic wobble. */
function curve(steps: number, start: number, end: number, every = 5): { step: number; loss: number }[] {
  const out: { step: number; loss: number }[] = [];
  for (let s = every; s <= steps; s += every) {
    const t = s / steps;
    out.push({ step: s, loss: end + (start - end) * Math.exp(-4 * t) + 0.08 * Math.sin(s * 0.37) * (1 - t) });
  }
  return out;
}

function variant(over: Partial<VariantReport> & Pick<VariantReport, 'name' | 'strategy'>): VariantReport {
  return {
    runDir: `runs/${over.name}`,
    status: 'finished',
    settings: { learningRate: 5e-5, numTrainEpochs: 3, batch: 8, dropout: 0.1, weightDecay: 0.01 },
    trainableParameters: 124_439_808,
    steps: 600,
    seconds: 1834.2,
    tokensPerSecond: 2211.7,
    peakMemoryBytes: 3_412_000_000,
    finalLoss: 1.412,
    accuracy: {
      task: { before: prop(36, 301), after: prop(190, 301), flips: { gained: 160, lost: 6 } },
      taskTrained: { before: prop(40, 1200), after: prop(1010, 1200) },
      general: { before: prop(82, 200), after: prop(71, 200), flips: { gained: 4, lost: 15 } },
    },
    perplexity: { general: { before: 24.31, after: 27.9 } },
    nextTokenAccuracy: { general: { before: prop(5120, 12000), after: prop(4980, 12000) } },
    categories: {
      geography: { task: { before: prop(10, 100), after: prop(70, 100) } },
      history: { task: { before: prop(14, 101), after: prop(60, 101) } },
      'science & nature': { task: { before: prop(12, 100), after: prop(60, 100) } },
    },
    samples: [
      { prompt: 'Q: What is the capital of France?\nA:', answer: 'Paris', before: ' The capital of France is a city', after: ' Paris' },
      { prompt: 'Q: Who wrote <Hamlet>?\nA:', answer: 'Shakespeare', before: ' A man', after: ' William Shakespeare' },
    ],
    lossCurve: curve(600, 3.1, 1.4),
    ...over,
  };
}

export function sampleReport(): ExperimentReport {
  return {
    format: 'ftlab-experiment-report',
    version: 1,
    name: 'gpt2 on capitals-qa',
    createdAt: '2025-03-14T09:26:53.000Z',
    finishedAt: '2025-03-14T12:41:07.000Z',
    machine: { cpu: 'AMD EPYC 7B13', threads: 2, device: 'cpu' },
    baseModel: { name: 'gpt2', dir: '/models/gpt2', sha256: '248dfc3911869ec493c76e65bf2fcf7f615828b0254c12b473182f0f81d3a707' },
    data: { file: 'data/capitals-qa.jsonl', trainExamples: 1200, testExamples: 301, heldOutNote: 'Test questions never appear in training, not even rephrased.' },
    evaluation: {
      metric: 'exact match after normalisation (lower case, no punctuation or articles)',
      decoding: { kind: 'greedy', maxNewTokens: 24 },
      sets: {
        task: { count: 301, source: 'held-out questions of data/capitals-qa.jsonl' },
        general: { count: 200, source: 'built-in general knowledge questions (assets/demo/general_eval.jsonl)' },
      },
    },
    seed: 42,
    variants: [
      variant({ name: 'full', strategy: 'full' }),
      variant({
        name: 'frozen-embeddings', strategy: 'frozen-embeddings', trainableParameters: 85_056_000, seconds: 1500, tokensPerSecond: 2701.3,
        accuracy: {
          task: { before: prop(36, 301), after: prop(171, 301) },
          taskTrained: { before: prop(40, 1200), after: prop(900, 1200) },
          general: { before: prop(82, 200), after: prop(78, 200) },
        },
        lossCurve: curve(600, 3.1, 1.55),
      }),
      variant({
        name: 'lora r=8', strategy: 'lora', trainableParameters: 294_912, seconds: 1102, tokensPerSecond: 3650, peakMemoryBytes: null,
        settings: { learningRate: 2e-4, numTrainEpochs: 3, batch: 8, loraRank: 8, loraAlpha: 16, dropout: 0.05, weightDecay: 0 },
        accuracy: {
          task: { before: prop(36, 301), after: prop(150, 301) },
          taskTrained: { before: prop(40, 1200), after: null, missing: 'the run stopped before the trained-question evaluation' },
          general: { before: prop(82, 200), after: prop(83, 200) },
        },
        lossCurve: curve(600, 3.1, 1.75),
      }),
      variant({
        name: 'full lr=1e-4', strategy: 'full', status: 'failed', error: 'Out of memory at step 212: try --batch 4', steps: 212, seconds: 640,
        settings: { learningRate: 1e-4, numTrainEpochs: 3, batch: 16, layerLrMultipliers: [0.25, 0.5, 1], replayRatio: null },
        finalLoss: 2.02,
        accuracy: {
          task: { before: prop(36, 301), after: null, missing: 'training failed (out of memory)' },
          taskTrained: { before: prop(40, 1200), after: null, missing: 'training failed (out of memory)' },
          general: { before: prop(82, 200), after: null, missing: 'training failed (out of memory)' },
        },
        perplexity: { general: { before: 24.31, after: null, missing: 'training failed (out of memory)' } },
        nextTokenAccuracy: { general: { before: prop(5120, 12000), after: null, missing: 'training failed (out of memory)' } },
        categories: {},
        samples: [],
        lossCurve: curve(212, 3.1, 2.0),
      }),
      variant({
        name: 'layerwise', strategy: 'layerwise-lr', status: 'pending', steps: 0, seconds: 0, tokensPerSecond: 0, peakMemoryBytes: null, finalLoss: null,
        settings: { learningRate: 5e-5, layerLrMultipliers: [0.1, 0.3, 1], l2spWeight: 0.01 },
        accuracy: {
          task: { before: null, after: null, missing: 'not run yet' },
          taskTrained: { before: null, after: null, missing: 'not run yet' },
          general: { before: null, after: null, missing: 'not run yet' },
        },
        perplexity: { general: { before: null, after: null, missing: 'not run yet' } },
        nextTokenAccuracy: { general: { before: null, after: null, missing: 'not run yet' } },
        categories: {},
        samples: [],
        lossCurve: [],
      }),
    ],
  };
}
