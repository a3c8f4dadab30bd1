// How many optimizer steps the next ONNX Runtime run makes when a run holds up to K (stepsPerRun):
// K, or fewer so that a run ends on every step where the trainer needs the weights in JS (a
// checkpoint, an evaluation) and on the last step.

export interface RunBoundaries {
  stepsPerRun: number;
  totalSteps: number;
  /** Checkpoint every n steps (0: none). */
  saveSteps: number;
  /** Evaluation every n steps (0: none). */
  evalSteps: number;
}

/** Steps of the run that starts after `step` steps: 1..stepsPerRun. */
export function stepsInRun(step: number, b: RunBoundaries): number {
  let k = Math.min(b.stepsPerRun, b.totalSteps - step);
  for (const every of [b.saveSteps, b.evalSteps]) if (every > 0) k = Math.min(k, every - (step % every));
  return Math.max(1, k);
}
