import { ParamShape } from '../models/nn';
import { ParamGroup } from './trainStep';

/**
 * Parameter groups as Hugging Face Trainer makes them: weight decay on tensors of rank >= 2 only
 * (not biases or norm weights); one group per distinct (decay, lr scale).
 */
export function parameterGroups(params: ParamShape[], weightDecay: number, lrScale: (name: string) => number = () => 1): ParamGroup[] {
  const groups = new Map<string, ParamGroup>();
  for (const p of params) {
    const wd = p.shape.length >= 2 ? weightDecay : 0;
    const scale = lrScale(p.name);
    const key = `${wd}|${scale}`;
    let g = groups.get(key);
    if (!g) {
      g = { name: `${wd ? 'decay' : 'no_decay'}${scale !== 1 ? `_x${scale}` : ''}`, params: [], weightDecay: wd, lrScale: scale };
      groups.set(key, g);
    }
    g.params.push(p);
  }
  return [...groups.values()];
}
