import type { Socket } from 'node:net';
import { waitFor } from '../core/abort.js';
import type { MetricsSink } from '../core/metrics.js';
import { IPC_FRAMES_RECEIVED } from './metrics.js';
import { removeItem } from './stream-support.js';

interface Reader {
  readonly resolve: (frame: Buffer) => void;
  readonly reject: (error: Error) => void;
}

const PLAIN = { layer: 'plain' } as const;
const EMPTY = Buffer.alloc(0);

/**
 * The read side of an `IpcConnection`: frames decoded from the socket go to the oldest
 * waiting reader, or into a queue of at most `maxBufferedBytes` (beyond it the socket is
 * paused, so kernel backpressure reaches the peer, and resumed once drained below).
 * Readers are served in call order; after a read error every waiting and later read
 * fails with it, once the queue is empty.
 *
 * @internal
 */
export class FrameInbox {
  readonly #socket: Socket;
  readonly #maxBufferedBytes: number;
  readonly #metrics: MetricsSink;
  #queue: Buffer[] = [];
  #head = 0;
  #bytes = 0;
  #paused = false;
  #closed = false;
  readonly #readers: Reader[] = [];
  #error: Error | undefined;

  constructor(socket: Socket, maxBufferedBytes: number, metrics: MetricsSink) {
    this.#socket = socket;
    this.#maxBufferedBytes = maxBufferedBytes;
    this.#metrics = metrics;
  }

  /** Frames received and not yet taken. */
  get size(): number {
    return this.#queue.length - this.#head;
  }

  /** A queued frame when one is ready and no earlier reader waits for it. */
  takeReady(): Buffer | undefined {
    return this.#head < this.#queue.length && this.#readers.length === 0
      ? this.#shift()
      : undefined;
  }

  /** Like {@link FrameInbox.takeReady}, but nothing once cleared by close. */
  takeIfOpen(): Buffer | undefined {
    return this.#closed ? undefined : this.takeReady();
  }

  /** The next frame: a queued one, else waits (in call order) for one to arrive. */
  read(signal: AbortSignal | undefined): Promise<Buffer> {
    const ready = this.takeReady();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if (signal === undefined) {
      // No abort to clean up after: skip the generic wait machinery on this hot path.
      return new Promise<Buffer>((resolve, reject) => this.#readers.push({ resolve, reject }));
    }
    return waitFor<Buffer>(
      (resolve, reject) => {
        const reader = { resolve, reject };
        this.#readers.push(reader);
        return () => removeItem(this.#readers, reader);
      },
      { signal, what: 'recv' },
    );
  }

  /** Hands a decoded frame to a reader or queues it (the decoder's callback). */
  readonly deliver = (frame: Buffer): void => {
    if (this.#closed) return;
    this.#metrics.increment(IPC_FRAMES_RECEIVED, 1, PLAIN);
    const reader = this.#readers.shift();
    if (reader !== undefined) {
      reader.resolve(frame);
      return;
    }
    this.#queue.push(frame);
    this.#bytes += frame.length;
    if (!this.#paused && this.#bytes >= this.#maxBufferedBytes) {
      this.#paused = true;
      this.#socket.pause();
    }
  };

  /**
   * Records the read error (the first one wins) and rejects every waiting reader.
   * Returns false when an error was already recorded.
   */
  fail(error: Error): boolean {
    if (this.#error !== undefined) return false;
    this.#error = error;
    for (const reader of this.#readers.splice(0)) reader.reject(error);
    return true;
  }

  /** Drops queued frames and ignores later ones (local close). */
  clear(): void {
    this.#closed = true;
    this.#queue = [];
    this.#head = 0;
    this.#bytes = 0;
  }

  /** Resumes a socket paused for backpressure (so close can read the peer's FIN). */
  unpause(): void {
    if (this.#paused) this.#socket.resume();
  }

  #shift(): Buffer {
    const frame = this.#queue[this.#head] as Buffer;
    this.#queue[this.#head] = EMPTY;
    this.#head++;
    this.#bytes -= frame.length;
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    if (this.#paused && this.#bytes < this.#maxBufferedBytes) {
      this.#paused = false;
      this.#socket.resume();
    }
    return frame;
  }
}
