import { ClosedError, CapacityExceededError } from '../core/errors.js';
import { RingBuffer } from '../core/ring-buffer.js';
import { optionalSignal, positiveInteger } from '../core/validate.js';
import type { QueueEvent } from './types.js';

/** Options for `ManagedQueue.events()`. */
export interface QueueEventStreamOptions {
  /** Events buffered for this subscriber before the oldest are dropped. @defaultValue 256 */
  readonly capacity?: number;
  /** Ends the stream (iteration finishes normally) when aborted. */
  readonly signal?: AbortSignal;
}

/** A listener called synchronously for every event. */
export type QueueEventListener = (event: QueueEvent) => void;

/**
 * An async iterator over queue events with a bounded buffer. When the consumer falls
 * behind, the oldest buffered events are dropped and counted in {@link lagged}.
 * `return()` (a `break` in `for await`) unsubscribes.
 */
export interface QueueEventStream extends AsyncIterableIterator<QueueEvent> {
  /** Events dropped so far because this subscriber did not keep up. */
  readonly lagged: number;
  /** Events buffered and not yet read. */
  readonly buffered: number;
  /** Unsubscribes and ends the stream; buffered events are discarded. */
  return(): Promise<IteratorResult<QueueEvent>>;
}

class Stream implements QueueEventStream {
  readonly #buffer: RingBuffer<QueueEvent>;
  readonly #onDrop: (count: number) => void;
  readonly #detach: (stream: Stream) => void;
  readonly #signal: AbortSignal | undefined;
  #waiter: ((result: IteratorResult<QueueEvent>) => void) | undefined;
  #done = false;
  readonly #onAbort = (): void => {
    this.end();
  };

  constructor(
    capacity: number,
    signal: AbortSignal | undefined,
    onDrop: (count: number) => void,
    detach: (stream: Stream) => void,
  ) {
    this.#buffer = new RingBuffer(capacity);
    this.#onDrop = onDrop;
    this.#detach = detach;
    this.#signal = signal;
    signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  get lagged(): number {
    return this.#buffer.overwritten;
  }

  get buffered(): number {
    return this.#buffer.size;
  }

  push(event: QueueEvent): void {
    if (this.#done) return;
    const waiter = this.#waiter;
    if (waiter !== undefined) {
      this.#waiter = undefined;
      waiter({ value: event, done: false });
      return;
    }
    if (this.#buffer.push(event) > 0) this.#onDrop(1);
  }

  end(): void {
    if (this.#done) return;
    this.#done = true;
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#detach(this);
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<QueueEvent>> {
    const event = this.#buffer.shift();
    if (event !== undefined) return Promise.resolve({ value: event, done: false });
    if (this.#done) return Promise.resolve({ value: undefined, done: true });
    if (this.#waiter !== undefined) {
      return Promise.reject(
        new Error('QueueEventStream: next() called while another next() is pending'),
      );
    }
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }

  return(): Promise<IteratorResult<QueueEvent>> {
    this.#buffer.clear();
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/**
 * Fan-out of queue events to synchronous listeners and bounded async streams.
 *
 * @internal
 */
export class EventHub {
  readonly #streams = new Set<Stream>();
  readonly #listeners = new Set<QueueEventListener>();
  readonly #maxSubscribers: number;
  readonly #onDrop: (count: number) => void;
  readonly #onListenerError: (error: unknown) => void;
  #closed = false;

  constructor(
    maxSubscribers: number,
    onDrop: (count: number) => void,
    onListenerError: (error: unknown) => void,
  ) {
    this.#maxSubscribers = maxSubscribers;
    this.#onDrop = onDrop;
    this.#onListenerError = onListenerError;
  }

  get subscriberCount(): number {
    return this.#streams.size + this.#listeners.size;
  }

  get hasSubscribers(): boolean {
    return this.#streams.size > 0 || this.#listeners.size > 0;
  }

  emit(event: QueueEvent): void {
    for (const stream of this.#streams) stream.push(event);
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.#onListenerError(error);
      }
    }
  }

  stream(options: QueueEventStreamOptions = {}): QueueEventStream {
    const capacity = positiveInteger('capacity', options.capacity ?? 256, 1_048_576);
    const signal = optionalSignal('signal', options.signal);
    if (this.#closed) throw new ClosedError('ManagedQueue is closed: cannot subscribe');
    this.#checkRoom();
    const stream = new Stream(capacity, signal, this.#onDrop, (s) => this.#streams.delete(s));
    this.#streams.add(stream);
    if (signal?.aborted === true) stream.end();
    return stream;
  }

  listen(listener: QueueEventListener): () => void {
    if (typeof listener !== 'function') {
      throw new TypeError('listener must be a function');
    }
    if (this.#closed) throw new ClosedError('ManagedQueue is closed: cannot subscribe');
    this.#checkRoom();
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  close(): void {
    this.#closed = true;
    for (const stream of [...this.#streams]) stream.end();
    this.#listeners.clear();
  }

  #checkRoom(): void {
    if (this.subscriberCount >= this.#maxSubscribers) {
      throw new CapacityExceededError(
        `ManagedQueue: subscriber limit of ${this.#maxSubscribers} reached`,
        { details: { maxSubscribers: this.#maxSubscribers } },
      );
    }
  }
}
