/**
 * The abort state of one run. Executors see it as an `AbortSignal`, but most never read
 * theirs, so the controller is only built when a signal is first asked for; the engine's
 * own waits on a step register in a plain set instead of adding and removing an
 * EventTarget listener per attempt.
 *
 * @internal
 * @module
 */
import { setMaxListeners } from 'node:events';
import type { Clock } from '../core/clock.js';
import { toError } from '../core/errors.js';

/** @internal Aborts every attempt and wait of one run. */
export class RunAbort {
  #controller: AbortController | undefined;
  #reason: Error | undefined;
  readonly #watchers = new Set<(reason: Error) => void>();
  readonly #maxListeners: number | undefined;

  /** `maxListeners`: how many listeners the signal takes before Node warns (default Node's). */
  constructor(maxListeners?: number) {
    this.#maxListeners = maxListeners;
  }

  /** True once the run aborted (a method: a property read would be narrowed across awaits). */
  isAborted(): boolean {
    return this.#reason !== undefined;
  }

  /** Why the run aborted; undefined while it has not. */
  get reason(): Error | undefined {
    return this.#reason;
  }

  /** The run's signal (aborted at once when built after the abort). */
  get signal(): AbortSignal {
    let controller = this.#controller;
    if (controller === undefined) {
      controller = new AbortController();
      // Executors, backoff sleeps and queue admissions of parallel steps all listen.
      if (this.#maxListeners !== undefined) setMaxListeners(this.#maxListeners, controller.signal);
      if (this.#reason !== undefined) controller.abort(this.#reason);
      this.#controller = controller;
    }
    return controller.signal;
  }

  /** Aborts the run with `reason`; later calls do nothing. */
  abort(reason: Error): void {
    if (this.#reason !== undefined) return;
    this.#reason = reason;
    this.#controller?.abort(reason);
    const watchers = [...this.#watchers];
    this.#watchers.clear();
    for (const watcher of watchers) watcher(reason);
  }

  /**
   * Calls `fn` once when the run aborts (at once when it already has). Returns a function
   * that stops watching.
   */
  watch(fn: (reason: Error) => void): () => void {
    if (this.#reason !== undefined) {
      fn(this.#reason);
      return () => undefined;
    }
    this.#watchers.add(fn);
    return () => this.#watchers.delete(fn);
  }

  /**
   * Calls `fn` once when the run aborts, like {@link watch} but without building a
   * function to stop watching (pass `fn` to {@link unlisten}); false (and `fn` not
   * called) when the run already aborted.
   */
  listen(fn: (reason: Error) => void): boolean {
    if (this.#reason !== undefined) return false;
    this.#watchers.add(fn);
    return true;
  }

  /** Stops a {@link listen}. */
  unlisten(fn: (reason: Error) => void): void {
    this.#watchers.delete(fn);
  }

  /** Resolves after `delayMs` on `clock`; rejects with the reason as soon as the run aborts. */
  sleep(delayMs: number, clock: Clock): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = clock.setTimer(delayMs, () => {
        unwatch();
        resolve();
      });
      const unwatch = this.watch((reason) => {
        timer.cancel();
        reject(reason);
      });
    });
  }

  /**
   * Settles as `value` does (a rejection as an Error), or rejects with the abort reason
   * the moment the run aborts: a late result is ignored.
   */
  race<T>(value: PromiseLike<T>): Promise<T> {
    if (this.#reason !== undefined) return Promise.reject(this.#reason);
    return new Promise<T>((resolve, reject) => {
      const watchers = this.#watchers;
      watchers.add(reject);
      Promise.resolve(value).then(
        (result) => {
          watchers.delete(reject);
          resolve(result);
        },
        (error: unknown) => {
          watchers.delete(reject);
          reject(toError(error));
        },
      );
    });
  }
}

/** True for a promise or any other thenable. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
