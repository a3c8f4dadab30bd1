// Learning-rate schedules, computed on the host and fed to the step graph as an input.
// Same formulas as Hugging Face transformers' get_*_schedule_with_warmup: the lr of the optimizer
// step with 0-based index `step` is base_lr * lambda(step) (so with warmup the first step has lr 0).

export type SchedulerType = 'linear' | 'cosine' | 'constant' | 'constant_with_warmup';
export const SCHEDULER_TYPES: readonly SchedulerType[] = ['linear', 'cosine', 'constant', 'constant_with_warmup'];

export interface Schedule {
  type: SchedulerType;
  learningRate: number;
  warmupSteps: number;
  totalSteps: number;
}

export function learningRateAt(s: Schedule, step: number): number {
  const { warmupSteps: w, totalSteps: n } = s;
  if (s.type === 'constant') return s.learningRate;
  if (step < w) return (s.learningRate * step) / Math.max(1, w);
  switch (s.type) {
    case 'constant_with_warmup':
      return s.learningRate;
    case 'linear':
      return s.learningRate * Math.max(0, (n - step) / Math.max(1, n - w));
    case 'cosine': {
      const progress = (step - w) / Math.max(1, n - w);
      return s.learningRate * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
    }
  }
}
