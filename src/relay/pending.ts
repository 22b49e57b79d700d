import type { TimerHandle } from '../core/clock.js';
import type { RelayMessage } from './message.js';

/**
 * One request awaiting its reply. Written as a class (no per-request closures kept in
 * fields) because it sits on the request hot path.
 *
 * @internal
 */
export class PendingRequest {
  readonly id: string;
  /** The node the request was sent to: the only node whose reply is accepted. */
  readonly to: string;
  readonly createdAt: number;
  readonly promise: Promise<RelayMessage>;
  timer: TimerHandle | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  #resolve!: (message: RelayMessage) => void;
  #reject!: (error: Error) => void;
  #done = false;

  constructor(id: string, to: string, createdAt: number) {
    this.id = id;
    this.to = to;
    this.createdAt = createdAt;
    this.promise = new Promise<RelayMessage>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  get isDone(): boolean {
    return this.#done;
  }

  /** Settles with `reply` (or rejects with `error`); returns false when already settled. */
  settle(reply: RelayMessage | undefined, error: Error | undefined): boolean {
    if (this.#done) return false;
    this.#done = true;
    this.timer?.cancel();
    if (this.onAbort !== undefined) this.signal?.removeEventListener('abort', this.onAbort);
    if (error !== undefined) this.#reject(error);
    else if (reply !== undefined) this.#resolve(reply);
    return true;
  }
}
