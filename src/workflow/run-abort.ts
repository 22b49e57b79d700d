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

/** @internal A wait that {@link RunAbort.link} calls when the run aborts. */
export interface AbortLink {
  prevLink: AbortLink | undefined;
  nextLink: AbortLink | undefined;
  /** Called once, synchronously inside abort(). */
  runAborted(reason: Error): void;
}

/** @internal Aborts every attempt and wait of one run. */
export class RunAbort {
  #controller: AbortController | undefined;
  #reason: Error | undefined;
  readonly #watchers = new Set<(reason: Error) => void>();
  /** Head of the list of linked waits (see link). */
  #links: AbortLink | undefined;
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
    const links: AbortLink[] = [];
    for (let link = this.#links; link !== undefined; link = link.nextLink) links.push(link);
    this.#links = undefined;
    for (const link of links) link.prevLink = link.nextLink = undefined;
    for (const watcher of watchers) watcher(reason);
    for (const link of links) link.runAborted(reason);
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
   * Links `link` into the run's abort list: its `runAborted` is called once when the run
   * aborts, unless {@link unlink}ed first. Like {@link watch}, without a Set entry and a
   * closure per wait (a step's attempt links itself). False (and not linked) when the run
   * already aborted.
   */
  link(link: AbortLink): boolean {
    if (this.#reason !== undefined) return false;
    const head = this.#links;
    link.nextLink = head;
    link.prevLink = undefined;
    if (head !== undefined) head.prevLink = link;
    this.#links = link;
    return true;
  }

  /** Takes `link` out of the abort list (nothing when it is not in it). */
  unlink(link: AbortLink): void {
    const { prevLink, nextLink } = link;
    if (prevLink !== undefined) prevLink.nextLink = nextLink;
    else if (this.#links === link) this.#links = nextLink;
    else return;
    if (nextLink !== undefined) nextLink.prevLink = prevLink;
    link.prevLink = undefined;
    link.nextLink = undefined;
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
