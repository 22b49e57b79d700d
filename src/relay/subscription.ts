import { abortError, type WaitOptions } from '../core/abort.js';
import { ClosedError } from '../core/errors.js';
import { RingBuffer } from '../core/ring-buffer.js';
import type { RelayMessage } from './message.js';

/** An accepted inbound message as delivered to subscribers. */
export interface IncomingMessage {
  /** The accepted message. */
  readonly message: RelayMessage;
  /** True when the message was a broadcast (`to === ''`). */
  readonly isBroadcast: boolean;
}

/**
 * A relay subscriber's bounded inbox. When it is full the oldest message is dropped and
 * counted in {@link RelaySubscription.lagged} (the relay never blocks on a slow
 * subscriber). Iterate it with `for await`, or call `recv()`; `close()` ends it.
 */
export class RelaySubscription implements AsyncIterable<IncomingMessage>, Disposable {
  readonly #ring: RingBuffer<IncomingMessage>;
  readonly #onClose: (sub: RelaySubscription) => void;
  #waiter: { resolve: () => void } | undefined;
  #closed = false;

  /** @internal */
  constructor(capacity: number, onClose: (sub: RelaySubscription) => void) {
    this.#ring = new RingBuffer(capacity);
    this.#onClose = onClose;
  }

  /** Messages dropped because this subscriber fell behind. */
  get lagged(): number {
    return this.#ring.overwritten;
  }

  /** Messages waiting. */
  get size(): number {
    return this.#ring.size;
  }

  /** True once `close()` was called or the relay ended the subscription. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** @internal */
  push(item: IncomingMessage): void {
    if (this.#closed) return;
    this.#ring.push(item);
    const waiter = this.#waiter;
    if (waiter !== undefined) {
      this.#waiter = undefined;
      waiter.resolve();
    }
  }

  /** The next message without waiting, or undefined. */
  tryRecv(): IncomingMessage | undefined {
    return this.#ring.shift();
  }

  /** Waits for the next message; rejects with `ERR_CLOSED` once closed and drained. */
  async recv(options: WaitOptions = {}): Promise<IncomingMessage> {
    const { signal } = options;
    for (;;) {
      const item = this.#ring.shift();
      if (item !== undefined) return item;
      if (this.#closed) throw new ClosedError('relay subscription is closed');
      if (signal?.aborted === true) throw abortError(signal, 'recv');
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => {
          this.#waiter = undefined;
          if (signal !== undefined) reject(abortError(signal, 'recv'));
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        this.#waiter = {
          resolve: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
        };
      });
    }
  }

  /** Yields messages until the subscription closes; leaving the loop early closes it. */
  async *[Symbol.asyncIterator](): AsyncIterator<IncomingMessage> {
    try {
      for (;;) {
        const item = this.#ring.shift();
        if (item !== undefined) {
          yield item;
          continue;
        }
        if (this.#closed) return;
        await new Promise<void>((resolve) => {
          this.#waiter = { resolve };
        });
      }
    } finally {
      this.close();
    }
  }

  /** Stops delivery; buffered messages can still be read with `tryRecv`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose(this);
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.resolve();
  }

  /** Same as `close()`, so `using sub = relay.subscribe()` closes it. */
  [Symbol.dispose](): void {
    this.close();
  }
}
