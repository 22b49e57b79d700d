import type { Pool, PoolClient, Notification } from 'pg';
import type { Clock, TimerHandle } from '../../core/clock.js';
import { quoteIdentifier } from './identifier.js';
import { checkout, wrapPgError } from './pool.js';

/**
 * One LISTEN connection per queue object. It holds a pool client for its lifetime,
 * reconnects with capped backoff when the connection drops (server restart,
 * `pg_terminate_backend`), and after a reconnect tells subscribers to re-check, since
 * notifications sent while it was away are lost.
 *
 * @internal
 */
export class NotificationListener {
  readonly #pool: Pool;
  readonly #channel: string;
  readonly #clock: Clock;
  readonly #onError: (error: Error) => void;
  readonly #onMessage: (payload: string) => void;
  readonly #onReconnect: () => void;
  #client: PoolClient | undefined;
  #detach: (() => void) | undefined;
  #timer: TimerHandle | undefined;
  #failures = 0;
  #stopped = false;

  constructor(options: {
    pool: Pool;
    channel: string;
    clock: Clock;
    onError: (error: Error) => void;
    onMessage: (payload: string) => void;
    onReconnect: () => void;
  }) {
    this.#pool = options.pool;
    this.#channel = options.channel;
    this.#clock = options.clock;
    this.#onError = options.onError;
    this.#onMessage = options.onMessage;
    this.#onReconnect = options.onReconnect;
  }

  /** Connects and LISTENs; rejects when the first attempt fails. */
  async start(): Promise<void> {
    await this.#connect();
  }

  async #connect(): Promise<void> {
    // The client's error handler must exist from the moment it is checked out (see
    // checkout()); until LISTEN is set up an error just marks the attempt as failed.
    const attempt: { early: Error | undefined; live: PoolClient | undefined } = {
      early: undefined,
      live: undefined,
    };
    const onError = (error: Error): void => {
      if (attempt.live !== undefined) this.#drop(attempt.live, error);
      else attempt.early ??= error;
    };
    const held = await checkout(this.#pool, onError);
    const onNotification = (message: Notification): void => {
      if (message.channel === this.#channel && message.payload !== undefined) {
        this.#onMessage(message.payload);
      }
    };
    const onEnd = (): void => this.#drop(held, new Error('LISTEN connection ended'));
    held.on('notification', onNotification);
    held.on('end', onEnd);
    const detach = (): void => {
      held.off('notification', onNotification);
      held.off('error', onError);
      held.off('end', onEnd);
      // A terminated backend may still emit 'error' after release; never let it go unhandled.
      held.on('error', () => undefined);
    };
    try {
      // Checked before and after LISTEN: the error may arrive at either point.
      const failed = (): Error | undefined => attempt.early;
      let early = failed();
      if (early !== undefined) throw early;
      await held.query(`LISTEN ${quoteIdentifier(this.#channel)}`);
      early = failed();
      if (early !== undefined) throw early;
    } catch (error) {
      detach();
      held.release(error instanceof Error ? error : true);
      throw wrapPgError(error, 'LISTEN');
    }
    if (this.#stopped) {
      detach();
      held.release(true);
      return;
    }
    attempt.live = held;
    this.#client = held;
    this.#detach = detach;
    this.#failures = 0;
  }

  #drop(client: PoolClient, error: Error): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    this.#detach?.();
    // A late 'error' from the dead socket must not become an unhandled event.
    client.on('error', () => undefined);
    client.release(error);
    if (this.#stopped) return;
    this.#onError(wrapPgError(error, 'LISTEN connection'));
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped) return;
    const delay = Math.min(5000, 100 * 2 ** Math.min(this.#failures, 6));
    this.#failures++;
    this.#timer = this.#clock.setTimer(delay, () => {
      this.#timer = undefined;
      this.#connect().then(
        () => {
          if (!this.#stopped) this.#onReconnect();
        },
        (error: unknown) => {
          this.#onError(wrapPgError(error, 'LISTEN reconnect'));
          this.#schedule();
        },
      );
    });
    this.#timer.unref();
  }

  /** Stops listening and releases the connection. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    const client = this.#client;
    this.#client = undefined;
    if (client === undefined) return;
    this.#detach?.();
    client.on('error', () => undefined);
    try {
      await client.query(`UNLISTEN ${quoteIdentifier(this.#channel)}`);
      client.release();
    } catch (error) {
      client.release(error instanceof Error ? error : true);
    }
  }
}
