// Keys that find duplicates and leakage without keeping the texts: 53-bit string hashes in an
// open-addressing table of float64 keys with a uint32 value each (where the first copy was seen).
import type { Example } from './recordSchema';

/** cyrb53 (bryc, public domain): a fast 53-bit string hash. */
export function hash53(s: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** Case, surrounding and repeated whitespace do not make a question different. */
const normalize = (s: string) => s.trim().replace(/\s+/g, ' ').toLowerCase();

/** Exact content of the example: equal keys are duplicates. */
export function contentKey(e: Example): number {
  switch (e.kind) {
    case 'qa': return hash53(`${e.question}\u0000${e.answer}`, 1);
    case 'chat': return hash53(e.messages.map((m) => `${m.role}\u0000${m.content}`).join('\u0001'), 2);
    case 'tokens': return hash53(`${e.inputIds.join(',')}|${e.labels?.join(',') ?? ''}`, 3);
  }
}

/** The prompt, normalized: examples with equal keys must not be in different splits. */
export function promptKey(e: Example): number {
  switch (e.kind) {
    case 'qa': return hash53(normalize(e.question), 4);
    case 'chat': return hash53(e.messages.filter((m) => m.role !== 'assistant').map((m) => normalize(m.content)).join('\u0001'), 5);
    case 'tokens': {
      const prompt = e.labels ? e.inputIds.filter((_, i) => e.labels![i] === -100) : e.inputIds;
      return hash53(prompt.join(','), 6);
    }
  }
}

/** Map from 53-bit keys (never 0 after the +1 shift below) to uint32 values; grows by doubling. */
export class KeyMap {
  private keys = new Float64Array(1 << 12);
  private values = new Uint32Array(1 << 12);
  size = 0;

  get(key: number): number | undefined {
    const k = key + 1;
    const mask = this.keys.length - 1;
    for (let i = slot(k, mask); ; i = (i + 1) & mask) {
      const at = this.keys[i]!;
      if (at === 0) return undefined;
      if (at === k) return this.values[i];
    }
  }

  /** Sets the value unless the key is present; returns the value already there, if any. */
  setIfAbsent(key: number, value: number): number | undefined {
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    const k = key + 1;
    const mask = this.keys.length - 1;
    for (let i = slot(k, mask); ; i = (i + 1) & mask) {
      const at = this.keys[i]!;
      if (at === 0) {
        this.keys[i] = k;
        this.values[i] = value;
        this.size++;
        return undefined;
      }
      if (at === k) return this.values[i];
    }
  }

  private grow(): void {
    const keys = this.keys;
    const values = this.values;
    this.keys = new Float64Array(keys.length * 2);
    this.values = new Uint32Array(keys.length * 2);
    this.size = 0;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== 0) this.setIfAbsent(keys[i]! - 1, values[i]!);
  }
}

function slot(k: number, mask: number): number {
  const lo = k >>> 0;
  const hi = (k / 4294967296) >>> 0;
  return (Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b) >>> 0) & mask;
}
