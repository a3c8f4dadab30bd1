// The requesting half of request/response: numbers each request and settles its promise when the
// response with the same id arrives.
import type { RequestMessage, RequestType } from './messages';

interface Pending {
  readonly type: RequestType<string, unknown, unknown>;
  resolve(result: unknown): void;
  reject(error: Error): void;
}

export class PendingRequests {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly post: (message: RequestMessage<string, unknown>) => void) {}

  /** `onId` learns the request's id before it is posted (to refer to it later, e.g. to cancel it). */
  send<M extends string, P, R>(type: RequestType<M, P, R>, params: P, onId?: (id: number) => void): Promise<R> {
    const id = this.nextId++;
    onId?.(id);
    return new Promise<R>((resolve, reject) => {
      this.pending.set(id, { type, resolve: resolve as (result: unknown) => void, reject });
      try {
        this.post(type.create(id, params));
      } catch (err) {
        // The channel is closed (the process has just ended): fail now, not never.
        this.pending.delete(id);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  /** Offers a received message; returns true when it was the response to one of our requests. */
  settle(message: unknown): boolean {
    const id = typeof message === 'object' && message !== null ? (message as { id?: unknown }).id : undefined;
    const entry = typeof id === 'number' ? this.pending.get(id) : undefined;
    if (entry === undefined || !entry.type.isResponse(message)) return false;
    this.pending.delete(id as number);
    if ('error' in message) entry.reject(new Error(message.error.message));
    else entry.resolve(message.result);
    return true;
  }

  /** The other side is gone (the worker process ended): fail every request still waiting. */
  rejectAll(reason: string): void {
    for (const entry of this.pending.values()) entry.reject(new Error(reason));
    this.pending.clear();
  }

  get size(): number {
    return this.pending.size;
  }
}
