import { systemClock, type Clock, type TimerHandle } from './clock.js';
import { AbortedError, MajraError, TimeoutError } from './errors.js';
import { nonNegativeNumber, optionalSignal } from './validate.js';

/** Options accepted by every wait in majra. */
export interface WaitOptions {
  /** Aborts the wait; it rejects with {@link AbortedError} (or the reason, if it is a MajraError). */
  readonly signal?: AbortSignal | undefined;
}

/** Options for waits that may also time out. */
export interface TimedWaitOptions extends WaitOptions {
  /** Rejects with {@link TimeoutError} after this many milliseconds. */
  readonly timeoutMs?: number | undefined;
}

/**
 * The error a wait rejects with when `signal` aborts: the reason itself when it is
 * already a MajraError (so a timeout stays a TimeoutError), otherwise an AbortedError
 * carrying the reason as `cause`.
 */
export function abortError(signal: AbortSignal, what = 'operation'): MajraError {
  const reason: unknown = signal.reason;
  if (reason instanceof MajraError) return reason;
  return new AbortedError(`${what} aborted`, { cause: reason });
}

/** Throws the abort error when `signal` is already aborted. */
export function throwIfAborted(signal: AbortSignal | undefined, what?: string): void {
  if (signal?.aborted === true) throw abortError(signal, what);
}

/** A promise with its settle functions exposed. */
export interface Deferred<T> {
  /** Settles when `resolve` or `reject` is called (the first call wins). */
  readonly promise: Promise<T>;
  /** Fulfils `promise` with `value`. */
  resolve(value: T): void;
  /** Rejects `promise` with `reason`. */
  reject(reason: unknown): void;
}

/** Creates a {@link Deferred}. */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Extra options for {@link waitFor}. */
export interface WaitForOptions extends TimedWaitOptions {
  /** Clock that arms the timeout. */
  readonly clock?: Clock | undefined;
  /** Name of the wait, used in error messages. */
  readonly what?: string | undefined;
}

/**
 * Runs `setup`, which must eventually call `resolve` or `reject`, and returns a
 * promise for the outcome. Abort and timeout reject it; on every path `setup`'s
 * returned cleanup runs exactly once and all listeners and timers are removed, so
 * a long-lived signal shared by many waits does not accumulate listeners.
 */
export function waitFor<T>(
  setup: (resolve: (value: T) => void, reject: (reason: Error) => void) => (() => void) | undefined,
  options: WaitForOptions = {},
): Promise<T> {
  const signal = optionalSignal('signal', options.signal);
  const what = options.what ?? 'wait';
  if (options.timeoutMs !== undefined) nonNegativeNumber('timeoutMs', options.timeoutMs);
  if (signal?.aborted === true) return Promise.reject(abortError(signal, what));

  return new Promise<T>((resolve, reject) => {
    let done = false;
    // A function read defeats narrowing: `done` changes inside callbacks.
    const isDone = (): boolean => done;
    let cleanup: (() => void) | undefined;
    let timer: TimerHandle | undefined;
    const onAbort = (): void => {
      if (signal !== undefined) settle(() => reject(abortError(signal, what)));
    };
    const settle = (fn: () => void): void => {
      if (done) return;
      done = true;
      timer?.cancel();
      signal?.removeEventListener('abort', onAbort);
      if (cleanup !== undefined) cleanup();
      fn();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    if (options.timeoutMs !== undefined) {
      const timeoutMs = options.timeoutMs;
      timer = (options.clock ?? systemClock).setTimer(timeoutMs, () => {
        settle(() => reject(new TimeoutError(`${what} timed out after ${timeoutMs} ms`)));
      });
    }
    try {
      cleanup = setup(
        (value) => settle(() => resolve(value)),
        (reason) => settle(() => reject(reason)),
      );
    } catch (error) {
      settle(() => reject(error instanceof Error ? error : new Error(String(error))));
      return;
    }
    // setup may have settled synchronously before cleanup was assigned.
    if (isDone() && cleanup !== undefined) cleanup();
  });
}

/** Resolves after `delayMs` on `clock`; rejects when `signal` aborts. */
export function sleep(
  delayMs: number,
  options: WaitOptions & { readonly clock?: Clock | undefined } = {},
): Promise<void> {
  nonNegativeNumber('delayMs', delayMs);
  const clock = options.clock ?? systemClock;
  return waitFor<undefined>(
    (resolve) => {
      const timer = clock.setTimer(delayMs, () => resolve(undefined));
      return () => timer.cancel();
    },
    { signal: options.signal, what: 'sleep' },
  );
}
