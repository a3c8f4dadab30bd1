// The host's client of a worker child process (dist/worker.js: prompt testing). The worker runs in a
// process of its own, so a native crash or an out-of-memory kill ends it and not the extension host;
// its requests go through the protocol's PendingRequests, and when the process ends every request
// still waiting fails with what happened ("killed by SIGKILL: out of memory, or ended from outside")
// instead of waiting forever. No vscode import: tested with real processes.

import { fork, type ChildProcess } from 'node:child_process';
import { PROTOCOL_VERSION, Ready, type RequestType } from '../protocol/messages';
import { PendingRequests } from '../protocol/pendingRequests';

/** How a process ended, in words: "killed by SIGKILL (out of memory, or ended from outside)". */
export function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal === 'SIGKILL') return 'killed by SIGKILL (out of memory, or ended from outside)';
  if (signal === 'SIGSEGV' || signal === 'SIGBUS' || signal === 'SIGILL' || signal === 'SIGABRT') return `crashed (${signal}) in native code`;
  if (signal) return `ended by ${signal}`;
  return code === 0 ? 'exited' : `exited with code ${code}`;
}

export interface WorkerProcessOptions {
  /** "the generation process": how messages name it. */
  readonly name: string;
  /** Notifications from the worker (e.g. generateProgress). */
  readonly onNotification?: (message: unknown) => void;
  /** Called once when the process has ended, with the words of describeExit. */
  readonly onExit?: (what: string) => void;
  /** Lines the worker writes to stderr (native libraries' warnings, a crash report). */
  readonly onStderr?: (line: string) => void;
}

export class WorkerProcess {
  private readonly child: ChildProcess;
  private readonly pending: PendingRequests;
  private readonly ready: Promise<void>;
  private ended: string | undefined;

  constructor(script: string, private readonly o: WorkerProcessOptions) {
    this.child = fork(script, [], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'advanced',
      // In VS Code desktop the host's execPath is Electron: run it as plain Node.
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    });
    this.pending = new PendingRequests((m) => this.child.send(m));
    let rest = '';
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (chunk: string) => {
      const lines = (rest + chunk).split(/\r?\n/);
      rest = lines.pop() ?? '';
      for (const l of lines) o.onStderr?.(l);
    });
    this.ready = new Promise<void>((resolve, reject) => {
      this.child.on('message', (m: unknown) => {
        if (Ready.is(m)) {
          if (m.params.protocol === PROTOCOL_VERSION) resolve();
          else reject(new Error(`${o.name} speaks protocol ${m.params.protocol}, this extension ${PROTOCOL_VERSION}: reinstall the extension`));
          return;
        }
        if (!this.pending.settle(m)) o.onNotification?.(m);
      });
      const end = (what: string) => {
        if (this.ended) return;
        this.ended = what;
        const message = `${o.name} ${what}`;
        reject(new Error(message));
        this.pending.rejectAll(message);
        o.onExit?.(what);
      };
      this.child.on('error', (err) => end(`could not start (${err.message})`));
      this.child.on('exit', (code, signal) => end(describeExit(code, signal)));
    });
    this.ready.catch(() => {}); // a failed start is reported to each request
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Whether the process is still there (a new one is needed once it has ended). */
  get alive(): boolean {
    return this.ended === undefined;
  }

  /** Sends a request once the worker is ready; rejects with what happened if the process ends first. */
  async request<M extends string, P, R>(type: RequestType<M, P, R>, params: P): Promise<R> {
    await this.ready;
    if (this.ended) throw new Error(`${this.o.name} ${this.ended}`);
    return this.pending.send(type, params);
  }

  /** A request and its id (to refer to it in a notification, e.g. cancelGenerate). */
  async requestWithId<M extends string, P, R>(type: RequestType<M, P, R>, params: P, onId: (id: number) => void): Promise<R> {
    await this.ready;
    if (this.ended) throw new Error(`${this.o.name} ${this.ended}`);
    return this.pending.send(type, params, onId);
  }

  notify(message: unknown): void {
    if (!this.ended) this.child.send(message as never);
  }

  dispose(): void {
    if (!this.ended) this.child.kill();
  }
}
