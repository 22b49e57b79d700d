import pg from 'pg';
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { BackendError, InvalidArgumentError, isMajraError } from '../../core/errors.js';
import { positiveInteger } from '../../core/validate.js';

/**
 * Pool handling shared by every PostgreSQL store: the user's `pg.Pool` or a connection
 * string, idle-client errors routed to `onError` (an unhandled `'error'` on a pg pool
 * kills the process), and driver errors wrapped in typed {@link BackendError}s.
 *
 * @internal
 */

/** Anything that runs a parameterised query: a `pg.Pool`, a `pg.PoolClient` or a `pg.Client`. */
export interface Queryable {
  /** Runs one parameterised statement (`name` makes the connection prepare it once). */
  query(config: { text: string; values?: unknown[]; name?: string }): Promise<{
    /** The result rows. */
    rows: unknown[];
  }>;
}

/** A statement: SQL text, optionally with a name so each connection prepares it once. */
export type Statement = string | { readonly name: string; readonly text: string };

/** How a PostgreSQL store reaches the database. */
export interface PostgresConnectionOptions {
  /** An existing pool. majra never ends it; `close()` only removes its listeners. */
  readonly pool?: Pool | undefined;
  /** A connection string (URL or `key=value` form); majra creates and owns the pool. */
  readonly connectionString?: string | undefined;
  /** Size of an owned pool. @defaultValue 10 */
  readonly maxPoolSize?: number | undefined;
  /** Connect timeout of an owned pool, in ms. @defaultValue 5000 */
  readonly connectTimeoutMs?: number | undefined;
  /** Receives background errors (idle clients dropped, listener reconnects, worker loops). */
  readonly onError?: ((error: Error) => void) | undefined;
}

/** A pool plus whether majra owns it. */
export interface ResolvedPool {
  readonly pool: Pool;
  readonly owned: boolean;
  /** Removes majra's listeners and ends an owned pool. */
  release(): Promise<void>;
}

/** Creates or adopts the pool named in `options` and attaches an idle-error handler. */
export function resolvePool(options: PostgresConnectionOptions): ResolvedPool {
  const onError = options.onError ?? (() => undefined);
  if ((options.pool === undefined) === (options.connectionString === undefined)) {
    throw new InvalidArgumentError(
      'connection: expected exactly one of `pool` or `connectionString`',
      { details: { option: 'pool' } },
    );
  }
  let pool: Pool;
  let owned: boolean;
  if (options.pool !== undefined) {
    const candidate: unknown = options.pool;
    if (
      typeof candidate !== 'object' ||
      candidate === null ||
      typeof (candidate as { connect?: unknown }).connect !== 'function'
    ) {
      throw new InvalidArgumentError('pool: expected a pg.Pool', { details: { option: 'pool' } });
    }
    pool = options.pool;
    owned = false;
  } else {
    const connectionString = options.connectionString;
    if (typeof connectionString !== 'string' || connectionString.length === 0) {
      throw new InvalidArgumentError('connectionString: expected a non-empty string', {
        details: { option: 'connectionString' },
      });
    }
    pool = new pg.Pool({
      connectionString,
      max: positiveInteger('maxPoolSize', options.maxPoolSize ?? 10, 1000),
      connectionTimeoutMillis: positiveInteger(
        'connectTimeoutMs',
        options.connectTimeoutMs ?? 5000,
      ),
    });
    owned = true;
  }
  const handler = (error: Error): void => {
    onError(wrapPgError(error, 'idle PostgreSQL client'));
  };
  pool.on('error', handler);
  let released: Promise<void> | undefined;
  return {
    pool,
    owned,
    release() {
      released ??= (async () => {
        if (owned) await pool.end();
        pool.off('error', handler);
      })();
      return released;
    },
  };
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  '57P01', // admin_shutdown (pg_terminate_backend)
  '57P02',
  '57P03', // cannot_connect_now
  '08000',
  '08001',
  '08003',
  '08006',
  '28000', // invalid authorization
  '28P01',
  '3D000', // database does not exist
]);

function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = error.code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/** True when `error` means the server or connection is gone, not that the statement was wrong. */
export function isConnectionError(error: unknown): boolean {
  if (isMajraError(error, 'ERR_POSTGRES_UNAVAILABLE')) return true;
  const code = errorCode(error);
  if (code !== undefined && UNAVAILABLE_CODES.has(code)) return true;
  const message = error instanceof Error ? error.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|not queryable/i.test(
    message,
  );
}

/** Wraps a driver error as a typed BackendError (kept as is when it already is a MajraError). */
export function wrapPgError(error: unknown, what: string): Error {
  if (isMajraError(error)) return error;
  const sqlState = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  return new BackendError(`${what} failed: ${message}`, {
    code: isConnectionError(error) ? 'ERR_POSTGRES_UNAVAILABLE' : 'ERR_POSTGRES_QUERY',
    cause: error,
    details: sqlState === undefined ? {} : { sqlState },
  });
}

/** Runs one parameterised statement, wrapping driver errors. */
export async function runQuery<R extends QueryResultRow>(
  db: Queryable,
  statement: Statement,
  values: unknown[],
  what: string,
): Promise<R[]> {
  try {
    const result = await db.query(
      typeof statement === 'string'
        ? { text: statement, values }
        : { name: statement.name, text: statement.text, values },
    );
    return result.rows as R[];
  } catch (error) {
    throw wrapPgError(error, what);
  }
}

/**
 * Runs `work` inside BEGIN/COMMIT on one pool client; rolls back on error. A client
 * whose connection broke is destroyed rather than returned to the pool.
 */
export async function withTransaction<T>(
  pool: Pool,
  what: string,
  work: (client: PoolClient) => Promise<T>,
): Promise<T> {
  let broken: Error | undefined;
  // A checked-out client has no listener of the pool's: a backend terminated between two
  // statements (pg_terminate_backend, a restart) is emitted as 'error' on the client and
  // would crash the process. Record it instead, so the client is discarded on release.
  const onError = (error: Error): void => {
    broken = error;
  };
  let client: PoolClient;
  try {
    client = await checkout(pool, onError);
  } catch (error) {
    throw wrapPgError(error, what);
  }
  try {
    if (broken !== undefined) throw broken;
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    if (isConnectionError(error))
      broken = error instanceof Error ? error : new Error(String(error));
    else {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      }
    }
    throw wrapPgError(error, what);
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}

/**
 * Checks out a pool client with `onError` attached inside pg-pool's callback, before
 * anything else can run. The promise form of `pool.connect()` leaves a gap: the driver
 * parses a whole socket read synchronously, so a backend terminated right after startup
 * delivers ReadyForQuery and its FATAL error in one chunk, and the error is emitted on
 * the new client before an awaiting caller could attach a listener: an unhandled
 * 'error' event that kills the process (seen under `pg_terminate_backend`).
 */
export function checkout(pool: Pool, onError: (error: Error) => void): Promise<PoolClient> {
  return new Promise((resolve, reject) => {
    pool.connect((error, client) => {
      if (error !== undefined || client === undefined) {
        reject(error ?? new Error('pool.connect returned no client'));
        return;
      }
      client.on('error', onError);
      resolve(client);
    });
  });
}
