/**
 * `Receiver<T>`: the consuming end every majra hub, backend and bridge hands out, and
 * `ReceiverSource<T>`: the producing end an outside producer (Redis pub/sub, the
 * WebSocket bridge, your own code) feeds through {@link createReceiver}.
 *
 * A receiver owns a bounded FIFO of exactly `capacity` items. When it is full, the
 * overflow policy decides: `'drop-oldest'` overwrites the oldest item and counts it in
 * `missed` (the subscriber lags), `'drop-newest'` refuses the new item and counts it,
 * `'block'` refuses it and lets the producer wait for space with `waitForSpace()`.
 *
 * @module
 */
import { abortError } from '../core/abort.js';
import { ClosedError, InvalidArgumentError, toError } from '../core/errors.js';
import type { WaitOptions } from '../core/abort.js';
import { RingBuffer, MAX_RING_CAPACITY } from '../core/ring-buffer.js';
import { describeValue, optionalSignal, positiveInteger } from '../core/validate.js';

/** What a full receiver does with a new item. */
export type OverflowPolicy = 'drop-oldest' | 'drop-newest' | 'block';

/** Default receiver capacity (items). */
export const DEFAULT_RECEIVER_CAPACITY = 256;

const POLICIES: readonly OverflowPolicy[] = ['drop-oldest', 'drop-newest', 'block'];

/** Options of a receiver. */
export interface ReceiverOptions {
  /** Items held before the overflow policy applies; 1..2^24, default 256. */
  readonly capacity?: number | undefined;
  /** Default `'drop-oldest'`. */
  readonly overflow?: OverflowPolicy | undefined;
  /**
   * Called on the consumer side, before the next item is returned, with the number of
   * items lost to overflow since the previous call. Must not throw (errors are ignored).
   */
  readonly onLag?: ((missed: number) => void) | undefined;
  /** Called once when the consumer closes the receiver (so the producer can unsubscribe). */
  readonly onCancel?: (() => void) | undefined;
}

/** Result of {@link Receiver.tryRecv}. */
export type TryRecvResult<T> =
  | {
      /** A message was buffered and is returned. */
      readonly status: 'ok';
      /** The oldest buffered message, now removed from the buffer. */
      readonly value: T;
    }
  | {
      /** Nothing is buffered right now; the receiver is still open. */
      readonly status: 'empty';
    }
  | {
      /** The receiver is closed and drained: nothing will ever arrive. */
      readonly status: 'closed';
    };

/**
 * Result of {@link ReceiverSource.push}: `'delivered'`; `'lagged'` (delivered, the oldest
 * item was overwritten); `'dropped'` (drop-newest refused it); `'full'` (block policy
 * refused it, wait with `waitForSpace`); `'closed'` (nobody will read it).
 */
export type PushResult = 'delivered' | 'lagged' | 'dropped' | 'full' | 'closed';

/** The consuming end of a subscription. */
export interface Receiver<T> extends AsyncIterable<T>, Disposable, AsyncDisposable {
  /**
   * Resolves with the next item, waiting if none is buffered. Rejects with
   * `ClosedError` (`ERR_PUBSUB_RECEIVER_CLOSED`) once closed and drained, with the
   * producer's error if it failed, or with `AbortedError` when `signal` aborts (the
   * receiver stays usable and no item is lost).
   */
  recv(options?: WaitOptions): Promise<T>;
  /** Takes the next buffered item without waiting. */
  tryRecv(): TryRecvResult<T>;
  /** Stops the subscription: drops buffered items, rejects pending `recv`. Idempotent. */
  close(): void;
  /** True once nothing more can be received (closed by the consumer, or ended and drained). */
  readonly isClosed: boolean;
  /** Resolves when {@link Receiver.isClosed} becomes true; never rejects. */
  readonly closed: Promise<void>;
  /** Items buffered and not yet received. */
  readonly pending: number;
  /** Items this receiver lost to overflow (overwritten or refused), cumulative. */
  readonly missed: number;
  /** Buffer capacity. */
  readonly capacity: number;
  /** Overflow policy. */
  readonly overflow: OverflowPolicy;
}

/** The producing end of a receiver. */
export interface ReceiverSource<T> {
  /** Offers one item; never throws, never calls consumer code synchronously. */
  push(item: T): PushResult;
  /** Ends the stream: the consumer drains what is buffered, then sees the end. Idempotent. */
  end(): void;
  /**
   * Ends the stream with an error: after draining, `recv` and iteration reject with it
   * (non-Error values are wrapped with `toError`).
   */
  fail(error: unknown): void;
  /** True once pushing is pointless: the consumer closed or the producer ended. */
  readonly isClosed: boolean;
  /** True when a push would overflow. */
  readonly isFull: boolean;
  /** Items buffered. */
  readonly pending: number;
  /** Resolves when there is room (or the receiver closed); rejects only on abort. */
  waitForSpace(options?: WaitOptions): Promise<void>;
}

/** Validates an overflow policy option. */
export function overflowPolicy(name: string, value: unknown): OverflowPolicy {
  if (value === undefined) return 'drop-oldest';
  if (!POLICIES.includes(value as OverflowPolicy)) {
    throw new InvalidArgumentError(
      `${name}: expected 'drop-oldest', 'drop-newest' or 'block', got ${describeValue(value)}`,
      { details: { option: name } },
    );
  }
  return value as OverflowPolicy;
}

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

const OPEN = 0;
const ENDED = 1; // producer ended: drain, then closed
const CANCELLED = 2; // consumer closed

const EMPTY = Object.freeze({ status: 'empty' as const });
const CLOSED = Object.freeze({ status: 'closed' as const });

function receiverClosed(cause?: unknown): ClosedError {
  return new ClosedError('receiver is closed', {
    code: 'ERR_PUBSUB_RECEIVER_CLOSED',
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * The implementation behind both ends. Hubs use it directly; outside producers get the
 * two views from {@link createReceiver}.
 *
 * @internal
 */
export class ReceiverQueue<T> implements Receiver<T>, ReceiverSource<T> {
  readonly capacity: number;
  readonly overflow: OverflowPolicy;
  readonly #buffer: RingBuffer<T>;
  readonly #onLag: ((missed: number) => void) | undefined;
  #onCancel: (() => void) | undefined;
  #state = OPEN;
  #error: Error | undefined = undefined;
  #failed = false;
  #missed = 0;
  #unreportedLag = 0;
  #waiters: Waiter<T>[] = [];
  #spaceWaiters: (() => void)[] = [];
  #closedPromise: Promise<void> | undefined;
  #resolveClosed: (() => void) | undefined;
  #finished = false;

  constructor(options: ReceiverOptions = {}) {
    this.capacity = positiveInteger(
      'capacity',
      options.capacity ?? DEFAULT_RECEIVER_CAPACITY,
      MAX_RING_CAPACITY,
    );
    this.overflow = overflowPolicy('overflow', options.overflow);
    if (options.onLag !== undefined && typeof options.onLag !== 'function') {
      throw new InvalidArgumentError(
        `onLag: expected a function, got ${describeValue(options.onLag)}`,
      );
    }
    if (options.onCancel !== undefined && typeof options.onCancel !== 'function') {
      throw new InvalidArgumentError(
        `onCancel: expected a function, got ${describeValue(options.onCancel)}`,
      );
    }
    this.#buffer = new RingBuffer<T>(this.capacity);
    this.#onLag = options.onLag;
    this.#onCancel = options.onCancel;
  }

  // ---- producer side ---------------------------------------------------------------

  push(item: T): PushResult {
    if (this.#state !== OPEN) return 'closed';
    const waiters = this.#waiters;
    if (waiters.length > 0) {
      // The buffer is empty whenever someone waits: hand the item over directly.
      const waiter = waiters.shift() as Waiter<T>;
      this.#detach(waiter);
      waiter.resolve(item);
      return 'delivered';
    }
    const buffer = this.#buffer;
    if (buffer.size < this.capacity) {
      buffer.push(item);
      return 'delivered';
    }
    if (this.overflow === 'drop-oldest') {
      buffer.push(item);
      this.#missed++;
      this.#unreportedLag++;
      return 'lagged';
    }
    if (this.overflow === 'drop-newest') {
      this.#missed++;
      this.#unreportedLag++;
      return 'dropped';
    }
    return 'full';
  }

  end(): void {
    if (this.#state !== OPEN) return;
    this.#state = ENDED;
    this.#wakeProducers();
    if (this.#buffer.size === 0) this.#finish();
  }

  fail(error: unknown): void {
    if (this.#state !== OPEN) return;
    this.#failed = true;
    this.#error = toError(error);
    this.end();
  }

  get isFull(): boolean {
    return this.#buffer.size >= this.capacity;
  }

  waitForSpace(options: WaitOptions = {}): Promise<void> {
    const signal = optionalSignal('signal', options.signal);
    if (this.#state !== OPEN || this.#buffer.size < this.capacity) return Promise.resolve();
    if (signal?.aborted === true) return Promise.reject(abortError(signal, 'waitForSpace'));
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.#spaceWaiters.indexOf(wake);
        if (i >= 0) this.#spaceWaiters.splice(i, 1);
        if (signal !== undefined) reject(abortError(signal, 'waitForSpace'));
      };
      const wake = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#spaceWaiters.push(wake);
    });
  }

  // ---- consumer side ---------------------------------------------------------------

  get isClosed(): boolean {
    return this.#finished;
  }

  get closed(): Promise<void> {
    if (this.#closedPromise === undefined) {
      if (this.#finished) {
        this.#closedPromise = Promise.resolve();
      } else {
        this.#closedPromise = new Promise<void>((resolve) => {
          this.#resolveClosed = resolve;
        });
      }
    }
    return this.#closedPromise;
  }

  get pending(): number {
    return this.#buffer.size;
  }

  get missed(): number {
    return this.#missed;
  }

  tryRecv(): TryRecvResult<T> {
    if (this.#buffer.size > 0) return { status: 'ok', value: this.#take() };
    return this.#finished || this.#state !== OPEN ? CLOSED : EMPTY;
  }

  recv(options: WaitOptions = {}): Promise<T> {
    const signal = optionalSignal('signal', options.signal);
    if (this.#buffer.size > 0) return Promise.resolve(this.#take());
    if (this.#state !== OPEN) return Promise.reject(this.#endError());
    if (signal?.aborted === true) return Promise.reject(abortError(signal, 'recv'));
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = { resolve, reject, signal, onAbort: undefined };
      if (signal !== undefined) {
        waiter.onAbort = () => {
          const i = this.#waiters.indexOf(waiter);
          if (i >= 0) this.#waiters.splice(i, 1);
          reject(abortError(signal, 'recv'));
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#waiters.push(waiter);
    });
  }

  close(): void {
    if (this.#state === CANCELLED) return;
    const wasOpen = this.#state === OPEN;
    this.#state = CANCELLED;
    this.#buffer.clear();
    this.#wakeProducers();
    this.#finish();
    const onCancel = this.#onCancel;
    this.#onCancel = undefined;
    if (wasOpen && onCancel !== undefined) onCancel();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: async (): Promise<IteratorResult<T>> => {
        try {
          return { done: false, value: await this.recv() };
        } catch (error) {
          if (error instanceof ClosedError && error.code === 'ERR_PUBSUB_RECEIVER_CLOSED') {
            return { done: true, value: undefined };
          }
          throw error;
        }
      },
      return: (): Promise<IteratorResult<T>> => {
        this.close();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  // ---- internals -------------------------------------------------------------------

  #take(): T {
    const item = this.#buffer.shift() as T;
    if (this.#unreportedLag > 0) this.#reportLag();
    if (this.#spaceWaiters.length > 0) this.#wakeProducers();
    if (this.#state === ENDED && this.#buffer.size === 0) this.#finish();
    return item;
  }

  #reportLag(): void {
    const n = this.#unreportedLag;
    this.#unreportedLag = 0;
    if (this.#onLag === undefined) return;
    try {
      this.#onLag(n);
    } catch {
      // documented: onLag must not throw; a throwing hook must not lose the item.
    }
  }

  #endError(): Error {
    if (this.#state === ENDED && this.#failed && this.#error !== undefined) return this.#error;
    return receiverClosed();
  }

  #wakeProducers(): void {
    const waiters = this.#spaceWaiters;
    if (waiters.length === 0) return;
    this.#spaceWaiters = [];
    for (const wake of waiters) wake();
  }

  #detach(waiter: Waiter<T>): void {
    if (waiter.signal !== undefined && waiter.onAbort !== undefined) {
      waiter.signal.removeEventListener('abort', waiter.onAbort);
    }
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    const waiters = this.#waiters;
    this.#waiters = [];
    if (waiters.length > 0) {
      const error = this.#endError();
      for (const waiter of waiters) {
        this.#detach(waiter);
        waiter.reject(error);
      }
    }
    this.#resolveClosed?.();
    this.#closedPromise ??= Promise.resolve();
  }
}

/** Both ends of a receiver created by {@link createReceiver}. */
export interface ReceiverPair<T> {
  /** Hand this to the consumer. */
  readonly receiver: Receiver<T>;
  /** Keep this to feed it. */
  readonly source: ReceiverSource<T>;
}

/**
 * Creates a receiver that any producer can feed, with the same semantics as the ones
 * majra's hubs return.
 *
 * @example
 * ```ts
 * const { receiver, source } = createReceiver<string>({ capacity: 100, onCancel: () => stop() });
 * source.push('hello');
 * source.end();
 * for await (const item of receiver) console.log(item); // 'hello'
 * ```
 * @throws InvalidArgumentError for a bad capacity, policy or hook.
 */
export function createReceiver<T>(options: ReceiverOptions = {}): ReceiverPair<T> {
  const queue = new ReceiverQueue<T>(options);
  return { receiver: queue, source: queue };
}
