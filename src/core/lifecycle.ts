import { ClosedError } from './errors.js';

/** The close contract every resource-owning majra object follows. */
export interface Closeable extends AsyncDisposable {
  /** Releases everything; idempotent, and concurrent calls share one close. */
  close(): Promise<void>;
  /** Resolves once closed; never rejects. */
  readonly closed: Promise<void>;
  /** True once `close()` has been called. */
  readonly isClosed: boolean;
}

/**
 * Implements the close bookkeeping for a resource: memoises the close work so it runs
 * once, exposes a `closed` promise that never rejects, and guards operations with
 * {@link Lifecycle.assertOpen}.
 *
 * @example
 * ```ts
 * class Thing implements Closeable {
 *   readonly #life = new Lifecycle('Thing');
 *   get closed() { return this.#life.closed; }
 *   get isClosed() { return this.#life.isClosed; }
 *   close() { return this.#life.close(async () => { ... }); }
 *   [Symbol.asyncDispose]() { return this.close(); }
 * }
 * ```
 */
export class Lifecycle {
  readonly #what: string;
  #closing: Promise<void> | undefined;
  #isClosed = false;
  #resolveClosed!: () => void;
  /** Resolves when the close work finished (successfully or not). */
  readonly closed: Promise<void>;

  /**
   * `what` names the owner in `ERR_CLOSED` messages (`'ManagedQueue'` → "ManagedQueue is closed").
   */
  constructor(what: string) {
    this.#what = what;
    this.closed = new Promise<void>((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  /** True once close started. */
  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** Throws {@link ClosedError} when closed. */
  assertOpen(operation?: string): void {
    if (this.#isClosed) {
      throw new ClosedError(
        operation === undefined
          ? `${this.#what} is closed`
          : `${this.#what} is closed: cannot ${operation}`,
      );
    }
  }

  /**
   * Runs `work` the first time it is called; later calls return the same promise. The
   * object counts as closed from the first call, before `work` finishes, so nothing new
   * starts while it drains. `work` errors propagate to the callers but `closed` still
   * resolves.
   */
  close(work?: () => void | Promise<void>): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#isClosed = true;
    this.#closing = (async () => {
      try {
        if (work !== undefined) await work();
      } finally {
        this.#resolveClosed();
      }
    })();
    return this.#closing;
  }

  /** Marks closed synchronously (for objects without async work). */
  closeSync(work?: () => void): void {
    if (this.#closing !== undefined) return;
    this.#isClosed = true;
    try {
      work?.();
    } finally {
      this.#closing = Promise.resolve();
      this.#resolveClosed();
    }
  }
}
