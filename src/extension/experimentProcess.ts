// An experiment run in a child process of the extension host: `ftlab experiment --resume <dir>`
// (dist/cli.js), which itself runs each variant in a process of its own. Training never runs on the
// host's thread, and a crash (out of memory) takes only the child with it. No vscode import: tested
// with a stand-in script.
//
// The child leads a process group of its own (detached), so that stop() ends the CLI and the variant
// process it started together; the variant's status.json then reads as stopped (its process is
// gone) and the experiment resumes from the variant's checkpoint when run again.

import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { requestStop } from '../engine';

export interface ExperimentProcessEvents {
  /** One line of the child's output (progress on stderr, the comparison table on stdout). */
  line(text: string, stream: 'stdout' | 'stderr'): void;
  /** The child ended: its exit code (null when killed) and whether stop() asked for it. */
  exit(code: number | null, stopped: boolean): void;
}

export class ExperimentProcess {
  /**
   * 'output' on every line any experiment process of this window writes, and on its exit: its run
   * folders have changed. The view and the status bar refresh on it as well as on the file watcher,
   * which in code-server under load missed a new experiment's files for minutes (the e2e test's run
   * stayed "pending" in the view while it trained).
   */
  static readonly activity = new EventEmitter();

  private readonly child: ChildProcess;
  private stopRequested = false;
  private graceTimer: NodeJS.Timeout | undefined;

  constructor(cliPath: string, private readonly experimentDir: string, events: ExperimentProcessEvents, args: readonly string[] = ['experiment', '--resume', experimentDir]) {
    this.child = fork(cliPath, [...args], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // In VS Code desktop the host's execPath is Electron: run it as plain Node (fork sets this too;
      // the CLI's own variant processes inherit it).
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      let rest = '';
      this.child[stream]?.setEncoding('utf8');
      this.child[stream]?.on('data', (chunk: string) => {
        const lines = (rest + chunk).split(/\r?\n/);
        rest = lines.pop() ?? '';
        for (const l of lines) events.line(l, stream);
        if (lines.length) ExperimentProcess.activity.emit('output');
      });
      this.child[stream]?.on('end', () => {
        if (rest) events.line(rest, stream);
        rest = '';
      });
    }
    let ended = false;
    const end = (code: number | null) => {
      if (ended) return;
      ended = true;
      if (this.graceTimer) clearTimeout(this.graceTimer);
      events.exit(code, this.stopRequested);
      ExperimentProcess.activity.emit('output');
    };
    this.child.on('error', (err) => {
      events.line(`could not start ${cliPath}: ${err.message}`, 'stderr');
      end(null);
    });
    this.child.on('close', (code) => end(code));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * Stops the experiment at the running variant's next step boundary (stop-request.json: the trainer
   * saves its checkpoint there, so nothing trained is lost); ends the processes after `graceMs` if
   * they are still there (a long evaluation, a compile, a hung process).
   */
  stopAtStepBoundary(by: string, graceMs = 30_000): void {
    this.stopRequested = true;
    try {
      requestStop(this.experimentDir, by);
    } catch {
      this.stop(); // the folder cannot be written: stop the processes instead
      return;
    }
    if (!this.graceTimer && this.child.exitCode === null) this.graceTimer = setTimeout(() => this.stop(), graceMs);
  }

  /** Ends the experiment's processes (the CLI and its variant process) now; the run can be resumed. */
  stop(): void {
    this.stopRequested = true;
    const pid = this.child.pid;
    if (pid === undefined || this.child.exitCode !== null) return;
    try {
      process.kill(-pid, 'SIGTERM'); // the whole group
    } catch {
      this.child.kill('SIGTERM');
    }
  }
}
