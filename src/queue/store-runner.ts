import { toError } from '../core/errors.js';
import type { Lifecycle } from '../core/lifecycle.js';
import { storeFailure } from './job-codec.js';
import type { Awaitable, QueueStore } from './types.js';

/**
 * One queue operation, planned: `write` persists it, `apply` performs it in memory.
 *
 * @internal
 */
export interface Step<R> {
  readonly write?: ((store: QueueStore) => Awaitable<void>) | undefined;
  readonly apply: () => R;
}

const noop = (): void => undefined;

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * Runs queue operations as plan → store write → apply. `prepare` validates and plans
 * without mutating; `apply` mutates memory only after the write succeeded, so a failed
 * write leaves the queue unchanged. With no store or a synchronous store all three run
 * before `run` returns. An asynchronous write makes later operations wait behind it, so
 * operations apply strictly in call order and every plan sees the state it will mutate.
 *
 * @internal
 */
export class StoreRunner {
  store: QueueStore | undefined;
  #tail: Promise<void> | undefined;
  readonly #onStoreError: (op: string) => void;

  constructor(onStoreError: (op: string) => void) {
    this.#onStoreError = onStoreError;
  }

  /**
   * True when an operation may run synchronously in the caller: no store, so nothing to
   * write and nothing queued behind a write.
   */
  get direct(): boolean {
    return this.store === undefined && this.#tail === undefined;
  }

  /** Settles once every operation started so far has settled. */
  get idle(): Promise<void> {
    return this.#tail ?? Promise.resolve();
  }

  /**
   * Runs one operation. `life.assertOpen(op)` is checked when the operation executes
   * (after earlier asynchronous writes), so nothing starts once the owner closed.
   */
  run<R>(op: string, prepare: () => Step<R>, life: Lifecycle): Promise<R> {
    const guarded = (): Step<R> => {
      life.assertOpen(op);
      return prepare();
    };
    if (this.#tail === undefined) {
      const outcome = this.#exec(op, guarded);
      if (outcome.async) this.#setTail(outcome.promise);
      return outcome.promise;
    }
    const promise = this.#tail.then(() => this.#exec(op, guarded).promise);
    this.#setTail(promise);
    return promise;
  }

  /** Wraps a store failure (counting it) as the error the operation rejects with. */
  failure(op: string, error: unknown): Error {
    this.#onStoreError(op);
    return storeFailure(op, error);
  }

  #exec<R>(op: string, prepare: () => Step<R>): { promise: Promise<R>; async: boolean } {
    let step: Step<R>;
    try {
      step = prepare();
    } catch (error) {
      return { promise: Promise.reject(toError(error)), async: false };
    }
    const store = this.store;
    const write = step.write;
    if (store === undefined || write === undefined) return applied(step);
    let result: Awaitable<void>;
    try {
      result = write(store);
    } catch (error) {
      return { promise: Promise.reject(this.failure(op, error)), async: false };
    }
    if (!isPromiseLike(result)) return applied(step);
    const promise = Promise.resolve(result).then(
      () => step.apply(),
      (error: unknown) => {
        throw this.failure(op, error);
      },
    );
    return { promise, async: true };
  }

  #setTail(promise: Promise<unknown>): void {
    const tail: Promise<void> = promise.then(noop, noop).then(() => {
      if (this.#tail === tail) this.#tail = undefined;
    });
    this.#tail = tail;
  }
}

function applied<R>(step: Step<R>): { promise: Promise<R>; async: boolean } {
  try {
    return { promise: Promise.resolve(step.apply()), async: false };
  } catch (error) {
    return { promise: Promise.reject(toError(error)), async: false };
  }
}
