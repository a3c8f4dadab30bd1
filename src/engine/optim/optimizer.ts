// In-graph optimizer updates over one flat buffer per parameter group, so the update is a dozen
// elementwise nodes per group rather than a dozen per tensor.

import { GraphBuilder } from '../graph/builder';
import { Value } from '../graph/graph';

export type OptimizerConfig =
  | { kind: 'adamw'; beta1: number; beta2: number; eps: number }
  | { kind: 'sgd'; momentum: number };

/** Hugging Face Trainer defaults. */
export const ADAMW_DEFAULTS: OptimizerConfig = { kind: 'adamw', beta1: 0.9, beta2: 0.999, eps: 1e-8 };

/** Names of the per-group optimizer state buffers, each the size of the group's parameters. */
export function stateNames(o: OptimizerConfig): string[] {
  return o.kind === 'adamw' ? ['m', 'v'] : ['momentum'];
}

export interface GroupUpdate {
  params: Value;
  state: Value[];
}

/**
 * One update of a group's flat parameters `p` with flat gradient `g` (before clipping; `clip` is the
 * clipping factor, a scalar, or null).
 * lr: scalar learning rate (already multiplied by the group's scale); t: 1-based step (scalar).
 * AdamW (torch.optim.AdamW): p -= lr*wd*p; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 *   p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps).
 * SGD (torch.optim.SGD, dampening 0): g += wd*p; buf = mu buf + g; p -= lr buf.
 * Every per-step scalar (clip factor, bias corrections) is folded into scalars so that each element
 * sees as few passes as possible: the update is memory-bound.
 */
export function optimizerUpdate(b: GraphBuilder, o: OptimizerConfig, p: Value, g: Value, state: Value[], lr: Value, t: Value, weightDecay: number, clip: Value | null = null): GroupUpdate {
  const s = (x: number) => b.scalar(x, p.dtype);
  if (o.kind === 'sgd') {
    const gc = clip ? b.mul(g, clip) : g;
    const gd = weightDecay ? b.add(gc, b.mul(p, s(weightDecay))) : gc;
    const buf = o.momentum ? b.add(b.mul(state[0], s(o.momentum)), gd) : gd;
    return { params: b.sub(p, b.mul(buf, lr)), state: [buf] };
  }
  const [m, v] = state;
  const decayed = weightDecay ? b.mul(p, b.sub(s(1), b.mul(lr, s(weightDecay)))) : p;
  // (1-b1)*clip and (1-b2)*clip^2 are scalars: clipping costs no pass over g.
  const c1 = clip ? b.mul(s(1 - o.beta1), clip) : s(1 - o.beta1);
  const c2 = clip ? b.mul(s(1 - o.beta2), b.mul(clip, clip)) : s(1 - o.beta2);
  const m1 = b.add(b.mul(m, s(o.beta1)), b.mul(g, c1));
  const v1 = b.add(b.mul(v, s(o.beta2)), b.mul(b.mul(g, g), c2));
  // lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps) = [lr sqrt(1-b2^t)/(1-b1^t)] * m / (sqrt(v) + eps sqrt(1-b2^t))
  const rootBc2 = b.sqrt(b.sub(s(1), b.pow(s(o.beta2), t)));
  const stepSize = b.div(b.mul(lr, rootBc2), b.sub(s(1), b.pow(s(o.beta1), t)));
  const denom = b.add(b.sqrt(v1), b.mul(s(o.eps), rootBc2));
  return { params: b.sub(decayed, b.mul(b.div(m1, denom), stepSize)), state: [m1, v1] };
}
