/**
 * The waiting structures of the encrypted channel: decrypted messages read ahead, and
 * sends held while a rekey is unacknowledged.
 *
 * @module
 */
import { waitFor } from '../core/abort.js';
import { removeItem } from './stream-support.js';

interface QueuedSend {
  readonly bytes: Uint8Array;
  readonly signal: AbortSignal | undefined;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/**
 * Decrypted messages not yet returned by `recv`, with their total size, and a signal for
 * readers waiting for the buffer to change (a message taken or a read finished).
 *
 * @internal
 */
export class ReadAhead {
  #items: Buffer[] = [];
  #bytes = 0;
  #changed: { promise: Promise<void>; resolve: () => void } | undefined;

  /** Bytes buffered. */
  get bytes(): number {
    return this.#bytes;
  }

  push(plaintext: Buffer): void {
    this.#items.push(plaintext);
    this.#bytes += plaintext.length;
  }

  /** The oldest message, if any (wakes `changed` waiters when one is taken). */
  take(): Buffer | undefined {
    const next = this.#items.shift();
    if (next !== undefined) {
      this.#bytes -= next.length;
      this.notify();
    }
    return next;
  }

  /** Wakes everyone waiting in {@link ReadAhead.changed}. */
  notify(): void {
    const current = this.#changed;
    if (current === undefined) return;
    this.#changed = undefined;
    current.resolve();
  }

  /** Resolves at the next {@link ReadAhead.notify}. */
  changed(): Promise<void> {
    this.#changed ??= deferredVoid();
    return this.#changed.promise;
  }

  clear(): void {
    this.#items = [];
    this.#bytes = 0;
  }
}

/**
 * Holds sends while a rekey this side started is unacknowledged, so they go out in call
 * order under the new key once it opens.
 *
 * @internal
 */
export class SendGate {
  #closed = false;
  readonly #queue: QueuedSend[] = [];

  /** True when a send may go out now (gate open and nobody queued before it). */
  get passable(): boolean {
    return !this.#closed && this.#queue.length === 0;
  }

  /** Holds later sends until {@link SendGate.open}. */
  close(): void {
    this.#closed = true;
  }

  /** Waits (in call order) for the gate; aborting withdraws the send. */
  wait(bytes: Uint8Array, signal: AbortSignal | undefined): Promise<void> {
    return waitFor<undefined>(
      (resolve, reject) => {
        const item: QueuedSend = { bytes, signal, resolve: () => resolve(undefined), reject };
        this.#queue.push(item);
        return () => removeItem(this.#queue, item);
      },
      { signal, what: 'send' },
    ).then(() => undefined);
  }

  /** Opens the gate and passes every held send to `send`, in order. */
  open(send: (bytes: Uint8Array, signal: AbortSignal | undefined) => Promise<void>): void {
    this.#closed = false;
    let item: QueuedSend | undefined;
    while ((item = this.#queue.shift()) !== undefined) {
      send(item.bytes, item.signal).then(item.resolve, item.reject);
    }
  }

  /** Rejects every held send. */
  fail(error: Error): void {
    for (const item of this.#queue.splice(0)) item.reject(error);
  }
}

/** Waits for `promise` unless `signal` aborts first (the promise keeps running). @internal */
export function raceSignal<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  what: string,
): Promise<T> {
  if (signal === undefined) return promise;
  return waitFor<T>(
    (resolve, reject) => {
      promise.then(resolve, reject);
      return undefined;
    },
    { signal, what },
  );
}

function deferredVoid(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
