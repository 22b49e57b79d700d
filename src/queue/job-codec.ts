import {
  BackendError,
  CapacityExceededError,
  InvalidArgumentError,
  InvalidStateError,
  MajraError,
} from '../core/errors.js';
import { isPriority } from './priority.js';
import { isJobState, type JobState, type JobTransition, type StoredJob } from './types.js';

/**
 * Payload encoding and stored-row checks shared by `ManagedQueue` and the stores.
 *
 * @internal
 */

/**
 * JSON text of `payload`, refusing what JSON cannot carry faithfully and anything over
 * `maxBytes` (UTF-8).
 */
export function encodePayload(payload: unknown, maxBytes: number): string {
  let text: unknown;
  try {
    text = JSON.stringify(payload);
  } catch (error) {
    throw new InvalidArgumentError(
      `payload is not JSON-serialisable: ${(error as Error).message}`,
      { code: 'ERR_CODEC_NOT_SERIALIZABLE', cause: error },
    );
  }
  if (typeof text !== 'string') {
    throw new InvalidArgumentError(`payload is not JSON-serialisable: ${typeof payload}`, {
      code: 'ERR_CODEC_NOT_SERIALIZABLE',
    });
  }
  if (text.length * 3 > maxBytes) {
    const size = Buffer.byteLength(text, 'utf8');
    if (size > maxBytes) {
      throw new CapacityExceededError(
        `payload is ${size} bytes encoded, over the limit of ${maxBytes}`,
        { code: 'ERR_CODEC_TOO_LARGE', details: { size, maxBytes } },
      );
    }
  }
  return text;
}

/** Parses stored payload text. */
export function decodePayload(id: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw corrupt(`job ${id}: stored payload is not valid JSON`, error);
  }
}

/** A `BackendError` with code `ERR_QUEUE_STORE_CORRUPT`. */
export function corrupt(message: string, cause?: unknown): BackendError {
  return new BackendError(message, {
    code: 'ERR_QUEUE_STORE_CORRUPT',
    ...(cause === undefined ? {} : { cause }),
  });
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function optionalTime(value: unknown): boolean {
  return value === undefined || (typeof value === 'number' && Number.isFinite(value));
}

/**
 * Checks a row returned by a store's `load()` and returns it unchanged.
 *
 * @throws BackendError `ERR_QUEUE_STORE_CORRUPT` naming the bad field.
 */
export function checkStoredJob(row: StoredJob): StoredJob {
  const id: unknown = row.id;
  if (typeof id !== 'string' || id.length === 0) throw corrupt('stored job has no id');
  const bad = (field: string): never => {
    throw corrupt(`job ${id}: stored ${field} is invalid`);
  };
  if (!isNonNegativeInteger(row.seq)) bad('seq');
  if (!isPriority(row.priority)) bad('priority');
  if (!isJobState(row.state)) bad('state');
  if (typeof row.payload !== 'string') bad('payload');
  if (!isNonNegativeInteger(row.attempts)) bad('attempts');
  if (typeof row.enqueuedAt !== 'number' || !Number.isFinite(row.enqueuedAt)) bad('enqueuedAt');
  if (!optionalTime(row.startedAt)) bad('startedAt');
  if (!optionalTime(row.finishedAt)) bad('finishedAt');
  const res: unknown = row.resources;
  if (res !== undefined) {
    const r = res as Record<string, unknown>;
    if (
      typeof res !== 'object' ||
      res === null ||
      !isNonNegativeInteger(r['gpuCount']) ||
      !isNonNegativeInteger(r['vramMb'])
    ) {
      bad('resources');
    }
  }
  return row;
}

/**
 * Normalises a store failure: majra errors pass through unchanged (a conflict stays a
 * conflict); anything else becomes `BackendError` `ERR_QUEUE_STORE_FAILED` with the
 * original as `cause`.
 */
export function storeFailure(op: string, error: unknown): MajraError {
  if (error instanceof MajraError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new BackendError(`queue store ${op} failed: ${detail}`, {
    code: 'ERR_QUEUE_STORE_FAILED',
    cause: error,
    details: { op },
  });
}

/** A job row as the SQL stores (SQLite, PostgreSQL) select it. */
export interface JobRow {
  id: string;
  seq: number;
  priority: number;
  state: string;
  payload: string;
  gpu_count: number | null;
  vram_mb: number | null;
  attempts: number;
  enqueued_at: number;
  started_at: number | null;
  finished_at: number | null;
}

/**
 * Checks a SQL row and converts it to a {@link StoredJob}.
 *
 * @throws BackendError `ERR_QUEUE_STORE_CORRUPT` naming the bad field.
 */
export function fromJobRow(row: JobRow): StoredJob {
  if ((row.gpu_count === null) !== (row.vram_mb === null)) {
    throw corrupt(`job ${row.id}: stored resources are half set`);
  }
  return checkStoredJob({
    id: row.id,
    seq: row.seq,
    priority: row.priority as StoredJob['priority'],
    state: row.state as JobState,
    payload: row.payload,
    resources:
      row.gpu_count === null || row.vram_mb === null
        ? undefined
        : { gpuCount: row.gpu_count, vramMb: row.vram_mb },
    attempts: row.attempts,
    enqueuedAt: row.enqueued_at,
    startedAt: row.started_at ?? undefined,
    finishedAt: row.finished_at ?? undefined,
  });
}

/** `ERR_QUEUE_STORE_CONFLICT`: an insert of an id the store already holds. */
export function alreadyStored(id: string, cause?: unknown): InvalidStateError {
  return new InvalidStateError(`job ${id} already exists in the store`, {
    code: 'ERR_QUEUE_STORE_CONFLICT',
    ...(cause === undefined ? {} : { cause }),
    details: { id },
  });
}

/** `ERR_QUEUE_STORE_CONFLICT`: a transition whose job is not in the store in `from`. */
export function notInState(change: JobTransition): InvalidStateError {
  return new InvalidStateError(`job ${change.id} is not in the store in state ${change.from}`, {
    code: 'ERR_QUEUE_STORE_CONFLICT',
    details: { id: change.id, from: change.from },
  });
}
