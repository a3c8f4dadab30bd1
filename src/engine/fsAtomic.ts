// Writing a file so that a reader (another process, a crash, a power cut) never sees half of it.

import { renameSync, writeFileSync } from 'node:fs';

/** Atomic write: temp file + rename (never a half-written file). */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}
