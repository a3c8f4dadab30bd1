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

/** L2-SP: the pull of a group's parameters toward their pretrained values. */
export interface L2spPull {
  /** The pretrained values w0, shaped like the group's flat parameters (a graph input, never an output). */
  anchor: Value;
  /** lambda > 0. */
  weight: number;
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
 * L2-SP (Li, Grandvalet, Davoine 2018), decoupled like AdamW's decay: with the pretrained value w0
 * (`l2sp.anchor`, a frozen input) and lambda = `l2sp.weight`, the new parameters are
 *   AdamW: p' = p - lr*wd*p - lr*lambda*(p - w0) - lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)
 *   SGD:   p' = p - lr*buf - lr*lambda*(p - w0)
 * i.e. the pull is evaluated at the pre-step p, alongside (not after) AdamW's decoupled decay, and it
 * never enters the gradient, the moments or the clipping norm. Why decoupled: a coupled penalty
 * lambda*(p - w0) added to g would be divided by sqrt(v) like the gradient, so the weights with the
 * smallest gradients would be pulled hardest (Loshchilov & Hutter's argument for AdamW). With AdamW
 * each step moves a weight by at most about lr, so the pull holds it within |p - w0| ~ 1/lambda:
 * lambda is an inverse per-weight trust radius (GPT-2 matrices have entries ~0.02, so lambda of
 * ~10..1000 constrains them; lambda ~0.01, a usual weight decay, barely does), reached after about
 * 1/(lr*lambda) steps.
 * Every per-step scalar (clip factor, bias corrections) is folded into scalars so that each element
 * sees as few passes as possible: the update is memory-bound.
 */
export function optimizerUpdate(b: GraphBuilder, o: OptimizerConfig, p: Value, g: Value, state: Value[], lr: Value, t: Value, weightDecay: number, clip: Value | null = null,
  l2sp: L2spPull | null = null): GroupUpdate {
  const s = (x: number) => b.scalar(x, p.dtype);
  if (l2sp && !(l2sp.weight > 0)) throw new RangeError(`L2-SP weight must be > 0 when an anchor is given, got ${l2sp.weight}`);
  if (o.kind === 'sgd') {
    const gc = clip ? b.mul(g, clip) : g;
    const gd = weightDecay ? b.add(gc, b.mul(p, s(weightDecay))) : gc;
    const buf = o.momentum ? b.add(b.mul(state[0], s(o.momentum)), gd) : gd;
    // p - lr*lambda*(p - w0) = p*(1 - lr*lambda) + w0*(lr*lambda): scalars folded, two passes.
    const pulled = l2sp ? b.add(b.mul(p, b.sub(s(1), b.mul(lr, s(l2sp.weight)))), b.mul(l2sp.anchor, b.mul(lr, s(l2sp.weight)))) : p;
    return { params: b.sub(pulled, b.mul(buf, lr)), state: [buf] };
  }
  const [m, v] = state;
  // Decoupled decay and L2-SP together: p*(1 - lr*(wd + lambda)) + w0*(lr*lambda).
  const shrink = weightDecay + (l2sp?.weight ?? 0);
  const kept = shrink ? b.mul(p, b.sub(s(1), b.mul(lr, s(shrink)))) : p;
  const decayed = l2sp ? b.add(kept, b.mul(l2sp.anchor, b.mul(lr, s(l2sp.weight)))) : kept;
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
