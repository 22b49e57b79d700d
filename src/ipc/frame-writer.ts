import type { Socket } from 'node:net';
import { waitFor } from '../core/abort.js';
import type { MetricsSink } from '../core/metrics.js';
import { IPC_BYTES_SENT, IPC_FRAMES_SENT } from './metrics.js';
import { removeItem } from './stream-support.js';

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

interface QueuedWrite extends Waiter {
  readonly frame: Buffer;
}

const PLAIN = { layer: 'plain' } as const;

/**
 * The write side of an `IpcConnection`: writes encoded frames in call order and honours
 * socket backpressure. A frame goes straight to the socket when nothing is queued and no
 * `drain` is pending; otherwise it waits in a queue that `drain` empties. Each frame is
 * one `write` call, so concurrent sends never interleave.
 *
 * @internal
 */
export class FrameWriter {
  readonly #socket: Socket;
  readonly #metrics: MetricsSink;
  #needDrain = false;
  readonly #queue: QueuedWrite[] = [];
  readonly #drainWaiters: Waiter[] = [];
  #error: Error | undefined;

  constructor(socket: Socket, metrics: MetricsSink) {
    this.#socket = socket;
    this.#metrics = metrics;
    socket.on('drain', this.#onDrain);
  }

  /** The error every later write fails with, once the socket failed or closed. */
  get error(): Error | undefined {
    return this.#error;
  }

  /**
   * Writes `frame`. Resolves when the socket accepted it below its high-water mark, or
   * after the next `drain`. Aborting before the frame reaches the socket withdraws it;
   * aborting later only stops the wait.
   */
  send(frame: Buffer, signal: AbortSignal | undefined): Promise<void> {
    if (!this.#needDrain && this.#queue.length === 0) {
      if (this.#write(frame)) return Promise.resolve();
      return this.#waitDrain(signal);
    }
    return this.#enqueue(frame, signal);
  }

  /** Rejects every queued and waiting write; later writes fail with the first error. */
  fail(error: Error): void {
    this.#error ??= error;
    for (const item of this.#queue.splice(0)) item.reject(this.#error);
    for (const waiter of this.#drainWaiters.splice(0)) waiter.reject(this.#error);
  }

  /** Rejects the writes still queued behind backpressure (frames already written stay). */
  dropQueued(error: Error): void {
    for (const item of this.#queue.splice(0)) item.reject(error);
  }

  /** Writes one frame; returns false when the caller must wait for drain. */
  #write(frame: Buffer): boolean {
    const ok = this.#socket.write(frame);
    this.#metrics.increment(IPC_FRAMES_SENT, 1, PLAIN);
    this.#metrics.increment(IPC_BYTES_SENT, frame.length, PLAIN);
    if (!ok) this.#needDrain = true;
    return ok;
  }

  #waitDrain(signal: AbortSignal | undefined): Promise<void> {
    return waitFor<undefined>(
      (resolve, reject) => {
        if (this.#error !== undefined) {
          reject(this.#error);
          return undefined;
        }
        const waiter = { resolve: () => resolve(undefined), reject };
        this.#drainWaiters.push(waiter);
        return () => removeItem(this.#drainWaiters, waiter);
      },
      { signal, what: 'send' },
    ).then(() => undefined);
  }

  #enqueue(frame: Buffer, signal: AbortSignal | undefined): Promise<void> {
    return waitFor<undefined>(
      (resolve, reject) => {
        const item: QueuedWrite = { frame, resolve: () => resolve(undefined), reject };
        this.#queue.push(item);
        return () => removeItem(this.#queue, item);
      },
      { signal, what: 'send' },
    ).then(() => undefined);
  }

  readonly #onDrain = (): void => {
    this.#needDrain = false;
    const waiters = this.#drainWaiters.splice(0);
    for (const waiter of waiters) waiter.resolve();
    let item: QueuedWrite | undefined;
    while ((item = this.#queue.shift()) !== undefined) {
      if (this.#mustWaitDrain()) {
        this.#queue.unshift(item);
        break;
      }
      if (this.#write(item.frame)) item.resolve();
      else this.#drainWaiters.push(item);
    }
  };

  // A method, not the field: `#write` in the loop above may set it again.
  #mustWaitDrain(): boolean {
    return this.#needDrain;
  }
}
