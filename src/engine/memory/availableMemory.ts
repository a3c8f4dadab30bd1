// The memory a new process can still use: the cgroup's limit minus what the cgroup uses (v2, else
// v1) where a limit is set, and the MemAvailable the kernel reports; the smaller of the two.
// FTLAB_AVAILABLE_MEMORY (bytes, or a number with K/M/G/KiB/MiB/GiB) overrides both, for containers
// that report neither correctly.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface AvailableMemory {
  bytes: number;
  /** Where the number comes from, e.g. 'cgroup v2 limit (memory.max)' or 'MemAvailable (/proc/meminfo)'. */
  source: string;
}

const read = (path: string): string | null => {
  try { return readFileSync(path, 'utf8'); } catch { return null; }
};

/** "12G", "512 MiB", "1048576" -> bytes; null when it is not a size. */
export function parseByteSize(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*$/i.exec(text);
  if (!m) return null;
  const scale = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Math.round(Number(m[1]) * scale);
}

/** A counter of a cgroup memory.stat file (inactive_file: page cache the kernel reclaims first). */
function statField(text: string | null, field: string): number {
  const m = text && new RegExp(`^${field} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

function cgroupV2(root: string): AvailableMemory | null {
  const self = read('/proc/self/cgroup')?.split('\n').find((l) => l.startsWith('0::'));
  if (!self) return null;
  // The tightest limit on the way up from this process's cgroup.
  let best: AvailableMemory | null = null;
  for (let dir = self.slice(3).trim(); ; dir = dir.slice(0, dir.lastIndexOf('/'))) {
    const at = join(root, dir);
    const max = read(join(at, 'memory.max'))?.trim();
    const current = Number(read(join(at, 'memory.current')) ?? NaN);
    if (max && max !== 'max' && Number.isFinite(current)) {
      const free = Number(max) - current + statField(read(join(at, 'memory.stat')), 'inactive_file');
      if (!best || free < best.bytes) best = { bytes: Math.max(0, free), source: `cgroup v2 limit (${join(at, 'memory.max')}: ${max} bytes)` };
    }
    if (dir === '' || dir === '/') break;
  }
  return best;
}

function cgroupV1(root: string): AvailableMemory | null {
  const at = join(root, 'memory');
  const limit = Number(read(join(at, 'memory.limit_in_bytes')) ?? NaN);
  const usage = Number(read(join(at, 'memory.usage_in_bytes')) ?? NaN);
  // An unset limit reads as a page-rounded 2^63 - 1.
  if (!Number.isFinite(limit) || !Number.isFinite(usage) || limit >= 2 ** 60) return null;
  const free = limit - usage + statField(read(join(at, 'memory.stat')), 'total_inactive_file');
  return { bytes: Math.max(0, free), source: `cgroup v1 limit (${join(at, 'memory.limit_in_bytes')}: ${limit} bytes)` };
}

function memAvailable(): AvailableMemory | null {
  const m = /^MemAvailable:\s+(\d+) kB$/m.exec(read('/proc/meminfo') ?? '');
  return m ? { bytes: Number(m[1]) * 1024, source: 'MemAvailable (/proc/meminfo)' } : null;
}

/** null where nothing reports it (not Linux, no override): the caller then does not refuse. */
export function availableMemory(env: NodeJS.ProcessEnv = process.env, cgroupRoot = '/sys/fs/cgroup'): AvailableMemory | null {
  const given = env.FTLAB_AVAILABLE_MEMORY;
  if (given !== undefined && given !== '') {
    const bytes = parseByteSize(given);
    if (bytes === null) throw new RangeError(`FTLAB_AVAILABLE_MEMORY must be a size in bytes (e.g. 8G, 512MiB, 1048576), got '${given}'`);
    return { bytes, source: 'FTLAB_AVAILABLE_MEMORY' };
  }
  const found = [cgroupV2(cgroupRoot) ?? cgroupV1(cgroupRoot), memAvailable()].filter((x): x is AvailableMemory => x !== null);
  return found.length ? found.reduce((a, b) => (b.bytes < a.bytes ? b : a)) : null;
}
