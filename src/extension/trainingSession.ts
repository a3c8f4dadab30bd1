// The extension host's side of the training worker: starts dist/worker.js (a worker_thread, so a
// training step never blocks the host), queues the start request until the worker says `ready`,
// and hands every protocol event to the caller.

import { Worker } from 'node:worker_threads';
import * as vscode from 'vscode';
import {
  EvalMetricsParams, JsonObject, PROTOCOL_VERSION, Ready, RunFailed, RunFailedParams, RunFinished, RunFinishedParams,
  RunStarted, RunStartedParams, StartRun, StepMetrics, StepMetricsParams, StopRun, EvalMetrics,
} from '../protocol/messages';

export interface SessionEvents {
  started(p: RunStartedParams): void;
  step(p: StepMetricsParams): void;
  eval(p: EvalMetricsParams): void;
  finished(p: RunFinishedParams): void;
  failed(p: RunFailedParams): void;
}

export class TrainingSession implements vscode.Disposable {
  private readonly worker: Worker;
  private readonly ready: Promise<void>;
  private nextId = 1;
  private runId: string | undefined;

  constructor(extensionUri: vscode.Uri, private readonly events: SessionEvents) {
    this.worker = new Worker(vscode.Uri.joinPath(extensionUri, 'dist', 'worker.js').fsPath);
    this.ready = new Promise((resolve, reject) => {
      this.worker.once('error', reject);
      this.worker.on('message', (m: unknown) => {
        if (Ready.is(m)) {
          if (m.params.protocol !== PROTOCOL_VERSION) reject(new Error(`the training worker speaks protocol ${m.params.protocol}, the extension ${PROTOCOL_VERSION}: reinstall the extension`));
          else resolve();
        }
      });
    });
    this.worker.on('message', (m: unknown) => this.dispatch(m));
    this.worker.on('error', (err) => this.events.failed({ runId: this.runId, message: `the training worker stopped: ${err.message}` }));
  }

  private dispatch(m: unknown): void {
    if (RunStarted.is(m)) this.events.started(m.params);
    else if (StepMetrics.is(m)) this.events.step(m.params);
    else if (EvalMetrics.is(m)) this.events.eval(m.params);
    else if (RunFinished.is(m)) this.events.finished(m.params);
    else if (RunFailed.is(m)) this.events.failed(m.params);
  }

  /** Starts a run; resolves with its id once the worker has accepted the config. */
  async start(config: JsonObject): Promise<string> {
    await this.ready;
    const id = this.nextId++;
    const answer = new Promise<string>((resolve, reject) => {
      const onMessage = (m: unknown) => {
        if (!StartRun.isResponse(m) || m.id !== id) return;
        this.worker.off('message', onMessage);
        if ('error' in m) reject(new Error(m.error.message));
        else resolve(m.result.runId);
      };
      this.worker.on('message', onMessage);
    });
    this.worker.postMessage(StartRun.create(id, { config }));
    this.runId = await answer;
    return this.runId;
  }

  stop(): void {
    if (this.runId) this.worker.postMessage(StopRun.create(this.nextId++, { runId: this.runId }));
  }

  dispose(): void {
    void this.worker.terminate();
  }
}
