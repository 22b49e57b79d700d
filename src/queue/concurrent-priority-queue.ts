import { waitFor, type WaitOptions } from '../core/abort.js';
import { ClosedError } from '../core/errors.js';
import { Lifecycle, type Closeable } from '../core/lifecycle.js';
import { PriorityQueue, type PriorityQueueOptions, type QueueItem } from './priority-queue.js';
import type { Priority } from './priority.js';

interface Waiter<T> {
  resolve(item: QueueItem<T>): void;
  reject(error: Error): void;
}

/**
 * A {@link PriorityQueue} that consumers can also await. `dequeueWait` parks until an
 * item arrives; parked waiters are served first come, first served, and an item is handed
 * straight to the oldest waiter (it never sits in the queue while someone waits). A waiter
 * whose signal aborts is removed and consumes nothing. `close()` rejects every waiter
 * with `ClosedError` and refuses further enqueues; items already queued can still be
 * drained with `dequeue`/`dequeueWait`.
 *
 * All methods except `dequeueWait` are synchronous: there is no I/O behind them.
 *
 * @example
 * ```ts
 * const q = new ConcurrentPriorityQueue<string>();
 * const next = q.dequeueWait({ signal: AbortSignal.timeout(1000) });
 * q.enqueue(createQueueItem(Priority.High, 'job'));
 * (await next).payload; // 'job'
 * ```
 */
export class ConcurrentPriorityQueue<T> implements Closeable {
  readonly #queue: PriorityQueue<T>;
  readonly #waiters = new Set<Waiter<T>>();
  readonly #life = new Lifecycle('ConcurrentPriorityQueue');

  /**
   * Items handed straight to a waiter still pass through the queue, so metrics count them
   * as enqueued and dequeued like any other.
   *
   * @throws InvalidArgumentError for an invalid `name`.
   */
  constructor(options: PriorityQueueOptions = {}) {
    this.#queue = new PriorityQueue<T>(options);
  }

  /** Items queued (not counting items handed to waiters). */
  get size(): number {
    return this.#queue.size;
  }

  /** Consumers parked in `dequeueWait`. */
  get waiting(): number {
    return this.#waiters.size;
  }

  /** True when no item is queued. */
  isEmpty(): boolean {
    return this.#queue.isEmpty();
  }

  /** Items in one tier. */
  sizeOf(priority: Priority): number {
    return this.#queue.sizeOf(priority);
  }

  /**
   * Adds `item`: hands it to the oldest waiter if one is parked, else queues it.
   *
   * @throws ClosedError after `close()`.
   * @throws InvalidArgumentError `ERR_QUEUE_INVALID_PRIORITY`; nothing changes.
   */
  enqueue(item: QueueItem<T>): void {
    this.#life.assertOpen('enqueue');
    for (const waiter of this.#waiters) {
      // The queue is necessarily empty while anyone waits; validate before handing over.
      this.#queue.enqueue(item);
      this.#waiters.delete(waiter);
      waiter.resolve(this.#queue.dequeue() as QueueItem<T>);
      return;
    }
    this.#queue.enqueue(item);
  }

  /** Removes and returns the next item, or `undefined` when empty. */
  dequeue(): QueueItem<T> | undefined {
    return this.#queue.dequeue();
  }

  /**
   * Resolves with the next item, waiting for one if the queue is empty.
   *
   * @throws AbortedError when `signal` aborts (the waiter is removed, nothing consumed).
   * @throws ClosedError when the queue is closed while waiting or is closed and empty.
   */
  dequeueWait(options: WaitOptions = {}): Promise<QueueItem<T>> {
    const item = this.#queue.dequeue();
    if (item !== undefined) return Promise.resolve(item);
    if (this.#life.isClosed) {
      return Promise.reject(
        new ClosedError('ConcurrentPriorityQueue is closed: cannot dequeueWait'),
      );
    }
    return waitFor<QueueItem<T>>(
      (resolve, reject) => {
        const waiter: Waiter<T> = { resolve, reject };
        this.#waiters.add(waiter);
        return () => this.#waiters.delete(waiter);
      },
      { signal: options.signal, what: 'dequeueWait' },
    );
  }

  /** Rejects every waiter with `ClosedError` and refuses later enqueues. Idempotent. */
  close(): Promise<void> {
    return this.#life.close(() => {
      const error = new ClosedError('ConcurrentPriorityQueue closed while waiting');
      const waiters = [...this.#waiters];
      this.#waiters.clear();
      for (const waiter of waiters) waiter.reject(error);
    });
  }

  /** Resolves once closed. */
  get closed(): Promise<void> {
    return this.#life.closed;
  }

  /** True once `close()` was called. */
  get isClosed(): boolean {
    return this.#life.isClosed;
  }

  /** Same as `close()`, so `await using queue = ...` closes it. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
