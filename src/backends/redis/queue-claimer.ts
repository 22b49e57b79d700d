import type { Redis } from 'ioredis';
import { sleep } from '../../core/abort.js';
import type { Clock } from '../../core/clock.js';
import { ClosedError, toError } from '../../core/errors.js';
import { quitQuietly } from './connection.js';

/** What one claim script call returned. */
export interface ClaimResult<J> {
  readonly jobs: readonly J[];
  /**
   * 0 when jobs remain ready; otherwise ms until the next lease expiry or delayed job
   * (-1 when there is none).
   */
  readonly waitHintMs: number;
}

interface Waiter<J> {
  resolve(job: J): void;
  reject(error: Error): void;
}

/** Options of {@link BlockingClaimer}. @internal */
export interface BlockingClaimerOptions<J> {
  readonly client: Redis;
  readonly notifyKey: string;
  readonly claim: (count: number) => Promise<ClaimResult<J>>;
  /** Gives back a job claimed for a waiter that went away meanwhile. */
  readonly release: (job: J) => Promise<unknown>;
  readonly maxBlockMs: number;
  readonly clock: Clock;
  readonly onError: (error: Error) => void;
}

/**
 * Serves every `dequeueWait` of one queue object with one loop and one dedicated
 * connection: claim as many jobs as there are waiters; when nothing is ready, block in
 * BLPOP on the queue's notify list (pushed by enqueue/requeue) until a token arrives or
 * the next lease expiry / delayed job is due (the claim script returns that hint), capped
 * by `maxBlockMs`. No polling: an idle queue costs one blocked command per `maxBlockMs`.
 *
 * @internal
 */
export class BlockingClaimer<J> {
  readonly #options: BlockingClaimerOptions<J>;
  readonly #waiters: Waiter<J>[] = [];
  #blocker: Redis | undefined;
  #running = false;
  #closed = false;
  #failures = 0;

  constructor(options: BlockingClaimerOptions<J>) {
    this.#options = options;
  }

  /** Registers a waiter; returns the cleanup that forgets it (for waitFor). */
  wait(resolve: (job: J) => void, reject: (error: Error) => void): () => void {
    const waiter: Waiter<J> = { resolve, reject };
    this.#waiters.push(waiter);
    this.#start();
    return () => {
      const index = this.#waiters.indexOf(waiter);
      if (index >= 0) this.#waiters.splice(index, 1);
    };
  }

  /** Reports a background error. */
  report(error: Error): void {
    this.#options.onError(error);
  }

  /** Rejects every waiter and closes the blocking connection. */
  async close(): Promise<void> {
    this.#closed = true;
    const waiters = this.#waiters.splice(0);
    for (const waiter of waiters) waiter.reject(new ClosedError('RedisQueue closed while waiting'));
    const blocker = this.#blocker;
    this.#blocker = undefined;
    if (blocker !== undefined) blocker.disconnect();
    await Promise.resolve();
  }

  #start(): void {
    if (this.#running || this.#closed) return;
    this.#running = true;
    this.#loop().then(
      () => {
        this.#running = false;
        if (this.#waiters.length > 0) this.#start();
      },
      (error: unknown) => {
        this.#running = false;
        this.report(toError(error));
        if (this.#waiters.length > 0) this.#start();
      },
    );
  }

  async #loop(): Promise<void> {
    while (!this.#closed && this.#waiters.length > 0) {
      let result: ClaimResult<J>;
      try {
        result = await this.#options.claim(this.#waiters.length);
      } catch (error) {
        await this.#backoff(error);
        continue;
      }
      for (const job of result.jobs) {
        const waiter = this.#waiters.shift();
        if (waiter !== undefined) waiter.resolve(job);
        else await this.#release(job);
      }
      if (result.waitHintMs === 0) continue; // jobs remain ready: claim again
      if (this.#waiters.length === 0 || this.#isClosed()) return;
      const hint = result.waitHintMs;
      const blockMs =
        hint > 0 ? Math.min(hint, this.#options.maxBlockMs) : this.#options.maxBlockMs;
      try {
        const token = await this.#blockerClient().blpop(
          this.#options.notifyKey,
          (blockMs / 1000).toFixed(3),
        );
        this.#failures = 0;
        // Every waiter left while blocked: hand the wake-up token back (a claim of 0
        // re-pushes it when jobs are ready) so another consumer is not starved.
        if (token !== null && this.#waiters.length === 0) await this.#options.claim(0);
      } catch (error) {
        if (this.#isClosed()) return;
        await this.#backoff(error);
      }
    }
  }

  // A method call: the loop's `while` narrows the field, but close() changes it meanwhile.
  #isClosed(): boolean {
    return this.#closed;
  }

  #blockerClient(): Redis {
    if (this.#blocker === undefined) {
      // A blocked connection cannot serve other commands: a duplicate with the same
      // settings, and no command timeout (the block has its own).
      this.#blocker = this.#options.client.duplicate({ commandTimeout: undefined });
      this.#blocker.on('error', () => undefined); // reported through the failed command
    }
    return this.#blocker;
  }

  async #release(job: J): Promise<void> {
    try {
      await this.#options.release(job);
    } catch (error) {
      // The lease will expire and the job be reclaimed: nothing is lost.
      this.report(toError(error));
    }
  }

  async #backoff(error: unknown): Promise<void> {
    if (this.#closed) return;
    this.report(toError(error));
    this.#failures++;
    const delay = Math.min(1000, 25 * 2 ** Math.min(this.#failures, 6));
    await sleep(delay, { clock: this.#options.clock });
  }

  /** Closes the blocking connection gracefully (used by tests and close paths). */
  async quit(): Promise<void> {
    if (this.#blocker !== undefined) await quitQuietly(this.#blocker);
  }
}
