import { Redis } from 'ioredis';
import { abortError } from '../../core/abort.js';
import { BackendError, InvalidArgumentError, MajraError } from '../../core/errors.js';
import { describeValue } from '../../core/validate.js';

/** A Redis connection to use: an ioredis client (not owned) or a `redis://` URL (owned). */
export type RedisConnectionInput = Redis | string;

/** A resolved client and whether this object must close it. */
export interface ResolvedClient {
  readonly client: Redis;
  readonly owned: boolean;
}

/**
 * Turns a client or URL into a client. A URL creates a lazily connecting client that
 * this library owns (and closes); a client passed in stays the caller's.
 *
 * @internal
 */
export function resolveClient(input: unknown): ResolvedClient {
  if (input instanceof Redis) return { client: input as Redis, owned: false };
  if (typeof input === 'string' && /^rediss?:\/\//.test(input)) {
    const client = new Redis(input, { lazyConnect: true });
    // Connection errors surface through the failing commands (and ready()); without a
    // listener ioredis would print every reconnect attempt as an unhandled error.
    client.on('error', () => undefined);
    return { client, owned: true };
  }
  throw new InvalidArgumentError(
    `redis: expected an ioredis client or a redis:// URL, got ${describeValue(input)}`,
    { details: { option: 'redis' } },
  );
}

/**
 * Waits until `client` is ready. A lazy client is connected; an unreachable server
 * rejects with `ERR_REDIS_UNREACHABLE` (an owned client is disconnected so it stops
 * retrying).
 *
 * @internal
 */
export async function ensureReady(resolved: ResolvedClient): Promise<void> {
  const { client } = resolved;
  try {
    if (client.status === 'wait') await client.connect();
    await client.ping();
  } catch (error) {
    if (resolved.owned) client.disconnect();
    throw new BackendError(`redis: server unreachable: ${(error as Error).message}`, {
      code: 'ERR_REDIS_UNREACHABLE',
      cause: error,
    });
  }
}

/** Closes an owned client gracefully (QUIT), falling back to a hard disconnect. */
export async function releaseClient(resolved: ResolvedClient): Promise<void> {
  if (!resolved.owned) return;
  await quitQuietly(resolved.client);
}

/** QUIT, or disconnect when the connection is not usable. Never rejects. */
export async function quitQuietly(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}

/**
 * Wraps a driver error as `BackendError` (`ERR_REDIS_COMMAND`), keeping it as `cause`.
 * MajraErrors pass through unchanged.
 *
 * @internal
 */
export function wrapRedisError(error: unknown, operation: string): MajraError {
  if (error instanceof MajraError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new BackendError(`redis: ${operation} failed: ${message}`, {
    code: 'ERR_REDIS_COMMAND',
    cause: error,
  });
}

/**
 * Awaits a command's reply, or rejects when one of `signals` aborts first (the reply is
 * then ignored). Needed for commands that may wait on a reconnect: ioredis never settles
 * a command queued while the connection waits to reconnect if disconnect() is called in
 * that window (the reconnect timer is cleared and the queue never flushed), so a close
 * or a caller's signal must not depend on the reply arriving.
 *
 * @internal
 */
export function replyUnless<T>(
  reply: Promise<T>,
  what: string,
  ...signals: readonly (AbortSignal | undefined)[]
): Promise<T> {
  const live = signals.filter((signal): signal is AbortSignal => signal !== undefined);
  const aborted = live.find((signal) => signal.aborted);
  if (aborted !== undefined) {
    reply.catch(() => undefined);
    return Promise.reject(abortError(aborted, what));
  }
  return new Promise<T>((resolve, reject) => {
    const listeners = live.map((signal) => {
      const onAbort = (): void => {
        done();
        reject(abortError(signal, what));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      return () => signal.removeEventListener('abort', onAbort);
    });
    const done = (): void => {
      for (const remove of listeners) remove();
    };
    reply.then(
      (value) => {
        done();
        resolve(value);
      },
      (error: unknown) => {
        done();
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
