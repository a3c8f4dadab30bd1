// One task per key (a file), run after a quiet period: a newer request for the same key replaces a
// waiting one and aborts a running one, whose result is then never applied. Saving a file three times
// in a second validates it once, and a slow pass never overwrites a newer one's diagnostics. No vscode
// import: tested without it.

export class DebouncedTasks<K> {
  private readonly waiting = new Map<K, ReturnType<typeof setTimeout>>();
  private readonly running = new Map<K, AbortController>();

  constructor(
    private readonly delayMs: number,
    private readonly onError: (key: K, error: unknown) => void = () => {},
  ) {}

  /**
   * Runs `task` for `key` after `delayMs` without a newer request for it; `apply` receives its result
   * unless the task was cancelled or replaced meanwhile.
   */
  schedule<R>(key: K, task: (signal: AbortSignal) => Promise<R>, apply: (result: R) => void): void {
    this.cancel(key);
    this.waiting.set(key, setTimeout(() => {
      this.waiting.delete(key);
      const controller = new AbortController();
      this.running.set(key, controller);
      const done = () => { if (this.running.get(key) === controller) this.running.delete(key); };
      task(controller.signal).then(
        (result) => { done(); if (!controller.signal.aborted) apply(result); },
        (error: unknown) => { done(); if (!controller.signal.aborted) this.onError(key, error); },
      );
    }, this.delayMs));
  }

  /** Forgets a waiting request and aborts a running task for `key`. */
  cancel(key: K): void {
    const timer = this.waiting.get(key);
    if (timer !== undefined) clearTimeout(timer);
    this.waiting.delete(key);
    this.running.get(key)?.abort();
    this.running.delete(key);
  }

  /** Keys with a waiting or running task. */
  get busy(): K[] {
    return [...new Set([...this.waiting.keys(), ...this.running.keys()])];
  }

  dispose(): void {
    for (const key of this.busy) this.cancel(key);
  }
}
