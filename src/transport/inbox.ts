import { abortError } from '../core/abort.js';
import { ClosedError, toError } from '../core/errors.js';

interface Sink<T> {
  readonly onItem: (item: T) => void;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/**
 * A bounded single-consumer async queue: the receive side of a connection. The producer
 * checks {@link Inbox.isFull} to apply backpressure (pause the socket, or await
 * {@link Inbox.waitForSpace}); `end(error?)` finishes the stream.
 *
 * @internal
 */
export class Inbox<T> {
  readonly capacity: number;
  #items: T[] = [];
  #head = 0;
  #ended = false;
  #error: Error | undefined;
  #consumer: (() => void) | undefined;
  #spaceWaiters = new Set<() => void>();
  #iterating = false;
  #sink: Sink<T> | undefined;
  /** Called when the queue drops below capacity after having been full. */
  onSpace: (() => void) | undefined;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get size(): number {
    return this.#items.length - this.#head;
  }

  get isFull(): boolean {
    return this.size >= this.capacity;
  }

  get isEnded(): boolean {
    return this.#ended;
  }

  /** Appends an item (ignored after `end`), or hands it straight to a {@link Inbox.consume} sink. */
  push(item: T): void {
    if (this.#ended) return;
    const sink = this.#sink;
    if (sink !== undefined && this.size === 0) {
      this.#deliver(sink, item);
      return;
    }
    this.#items.push(item);
    this.#wakeConsumer();
  }

  /** Finishes the stream; buffered items are still delivered, then `error` is thrown. */
  end(error?: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    this.#wakeConsumer();
    this.#wakeSpace();
    if (this.#sink !== undefined) this.#drainSink(this.#sink);
  }

  /**
   * The push-style alternative to {@link Inbox.iterate}: calls `onItem` synchronously for
   * every item (buffered ones first), with no promise per item. Resolves when the inbox
   * ends cleanly, rejects with its end error or with what `onItem` threw (which ends the
   * inbox). Exclusive with `iterate()`: one consumer per inbox.
   */
  consume(onItem: (item: T) => void): Promise<void> {
    if (this.#iterating) {
      return Promise.reject(
        new ClosedError('connection incoming stream is already being consumed'),
      );
    }
    this.#iterating = true;
    return new Promise<void>((resolve, reject) => {
      const sink: Sink<T> = { onItem, resolve, reject };
      this.#sink = sink;
      this.#drainSink(sink);
    });
  }

  /** Resolves when there is room, rejects when the inbox ended or `signal` aborts. */
  waitForSpace(signal?: AbortSignal): Promise<void> {
    if (this.#ended)
      return Promise.reject(
        new ClosedError('connection closed', { code: 'ERR_TRANSPORT_CONNECTION_CLOSED' }),
      );
    if (!this.isFull) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.#spaceWaiters.delete(wake);
        if (signal !== undefined) reject(abortError(signal, 'send'));
      };
      const wake = (): void => {
        signal?.removeEventListener('abort', onAbort);
        if (this.#ended) {
          reject(new ClosedError('connection closed', { code: 'ERR_TRANSPORT_CONNECTION_CLOSED' }));
        } else resolve();
      };
      if (signal?.aborted === true) {
        onAbort();
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#spaceWaiters.add(wake);
    });
  }

  /**
   * The single stream of items. A second concurrent iteration is refused (its first
   * `next()` rejects). Written as a plain iterator rather than an async generator: an
   * item that arrives while the consumer waits settles its `next()` directly, with no
   * generator resumption and re-await in between (this sits on every receive path).
   */
  iterate(): AsyncIterableIterator<T> {
    let state: 'new' | 'open' | 'done' = 'new';
    let waiting: Promise<IteratorResult<T, undefined>> | undefined;
    const finish = (): void => {
      if (state === 'open') this.#iterating = false;
      state = 'done';
    };
    // What next() yields now, or undefined when it must wait for push() or end().
    const poll = (): IteratorResult<T, undefined> | undefined => {
      if (this.size > 0) return { done: false, value: this.#shift() };
      if (!this.#ended) return undefined;
      const error = this.#error;
      finish();
      if (error !== undefined) throw error;
      return { done: true, value: undefined };
    };
    const iterator: AsyncIterableIterator<T> = {
      next: (): Promise<IteratorResult<T, undefined>> => {
        if (state === 'done') return Promise.resolve({ done: true, value: undefined });
        if (waiting !== undefined) return waiting.then(() => iterator.next());
        if (state === 'new') {
          if (this.#iterating) {
            state = 'done';
            return Promise.reject(
              new ClosedError('connection incoming stream is already being consumed'),
            );
          }
          this.#iterating = true;
          state = 'open';
        }
        try {
          const now = poll();
          if (now !== undefined) return Promise.resolve(now);
        } catch (error) {
          return Promise.reject(toError(error));
        }
        const pending = new Promise<IteratorResult<T, undefined>>((resolve, reject) => {
          this.#consumer = () => {
            waiting = undefined;
            try {
              const result = poll();
              // Woken by push() or end(): one of them made poll() answer.
              if (result !== undefined) resolve(result);
            } catch (error) {
              reject(toError(error));
            }
          };
        });
        waiting = pending;
        return pending;
      },
      return: (): Promise<IteratorResult<T, undefined>> => {
        const done = (): IteratorResult<T, undefined> => {
          finish();
          return { done: true, value: undefined };
        };
        // Like an async generator, a return() during a pending next() takes effect after it.
        if (waiting !== undefined) return waiting.then(done, done);
        return Promise.resolve(done());
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  #shift(): T {
    const wasFull = this.isFull;
    const item = this.#items[this.#head] as T;
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    } else if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    }
    if (wasFull && this.size < this.capacity) {
      this.#wakeSpace();
      this.onSpace?.();
    }
    return item;
  }

  /** Delivers buffered items to `sink`, then settles it once the inbox ended. */
  #drainSink(sink: Sink<T>): void {
    while (this.size > 0 && this.#sink === sink) this.#deliver(sink, this.#shift());
    if (this.#ended && this.#sink === sink) {
      this.#sink = undefined;
      if (this.#error === undefined) sink.resolve();
      else sink.reject(this.#error);
    }
  }

  #deliver(sink: Sink<T>, item: T): void {
    try {
      sink.onItem(item);
    } catch (error) {
      // The consumer failed: stop the stream here rather than throw into the producer.
      this.#sink = undefined;
      this.#ended = true;
      this.#items = [];
      this.#head = 0;
      this.#wakeSpace();
      sink.reject(toError(error));
    }
  }

  #wakeConsumer(): void {
    const consumer = this.#consumer;
    if (consumer !== undefined) {
      this.#consumer = undefined;
      consumer();
    }
  }

  #wakeSpace(): void {
    if (this.#spaceWaiters.size === 0) return;
    const waiters = [...this.#spaceWaiters];
    this.#spaceWaiters.clear();
    for (const wake of waiters) wake();
  }
}
