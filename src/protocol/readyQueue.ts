// The sending half of the `ready` handshake: messages posted before the receiver has said `ready`
// wait here, in order, instead of being lost (a webview's script loads after the host's first post).

export class ReadyQueue<T> {
  private pending: T[] = [];
  private ready = false;

  constructor(private readonly post: (message: T) => void) {}

  get isReady(): boolean {
    return this.ready;
  }

  send(message: T): void {
    if (this.ready) this.post(message);
    else this.pending.push(message);
  }

  /** The receiver said `ready`: deliver what waited, then post directly. */
  markReady(): void {
    this.ready = true;
    const waiting = this.pending;
    this.pending = [];
    for (const message of waiting) this.post(message);
  }

  /** The receiver went away (a webview reloads when hidden): queue again until the next `ready`. */
  reset(): void {
    this.ready = false;
    this.pending = [];
  }
}
