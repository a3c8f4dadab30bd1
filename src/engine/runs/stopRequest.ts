// stop-request.json: "stop this run (or experiment) at the next step boundary". Any process may write
// it (the extension, for a run started in a terminal; `touch` works too); the trainer polls for it at
// every step boundary, saves its checkpoint and ends with status 'stopped', so the run resumes from
// exactly that step. In an experiment folder it stops the experiment: the running variant at its next
// step boundary, and no further variant starts.
//
// The file's presence is the request. Its content says who asked and when (shown in the log); a file
// whose content does not check still stops the run (the person wanted it stopped) and the reader's
// error names the file for whoever reads it with readStopRequest.

import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../fsAtomic';
import { Rule, nonEmptyText, object, oneOf, timestamp } from './jsonRule';
import { RUN_FILES, readJsonFile } from './runFolder';

export const STOP_REQUEST_FORMAT = 'ftlab-stop-request';

export interface StopRequest {
  format: typeof STOP_REQUEST_FORMAT;
  requestedAt: string;
  /** Who asked, in words: "VS Code (pid 1234)", "ftlab". */
  by: string;
}

export const stopRequestRule: Rule<StopRequest> = object<StopRequest>({ format: oneOf(STOP_REQUEST_FORMAT), requestedAt: timestamp, by: nonEmptyText });

const FIX = 'the file asks the run to stop; delete it to let the run go on, or write it again with requestStop()';

/** Asks the run (or experiment) in `dir` to stop at its next step boundary. */
export function requestStop(dir: string, by: string, now: Date = new Date()): StopRequest {
  const request: StopRequest = { format: STOP_REQUEST_FORMAT, requestedAt: now.toISOString(), by };
  writeFileAtomic(join(dir, RUN_FILES.stopRequest), JSON.stringify(request, null, 2) + '\n');
  return request;
}

/** Whether a stop was asked for: one stat per step boundary, cheap next to a training step. */
export function isStopRequested(dir: string): boolean {
  return existsSync(join(dir, RUN_FILES.stopRequest));
}

/** The request, checked (null when there is none); a RunFolderError names a file that does not check. */
export function readStopRequest(dir: string): StopRequest | null {
  const file = join(dir, RUN_FILES.stopRequest);
  if (!existsSync(file)) return null;
  return readJsonFile(file, stopRequestRule, { fix: FIX });
}

/** "by VS Code (pid 12) at 2026-..." for the log; a file that does not check is still a request. */
export function describeStopRequest(dir: string): string {
  try {
    const r = readStopRequest(dir);
    return r ? `asked by ${r.by} at ${r.requestedAt}` : 'asked for';
  } catch (err) {
    return `asked for (${(err as Error).message})`;
  }
}

/** Removes the request: the run ended because of it, or a new start makes an old one stale. */
export function clearStopRequest(dir: string): void {
  rmSync(join(dir, RUN_FILES.stopRequest), { force: true });
}
