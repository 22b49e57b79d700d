/**
 * Pieces shared by the plain and encrypted IPC connections: clean-close detection, the
 * `messages()` / `frames()` iteration, JSON decoding with error counting, and small
 * list and error helpers.
 *
 * @module
 */
import { MajraError, isMajraError } from '../core/errors.js';
import type { MetricsSink } from '../core/metrics.js';
import { decodeJsonBody } from './framing.js';
import { IPC_ERRORS, errorLabels } from './metrics.js';

/** True for the errors that mean "the stream ended cleanly" (peer or local close). */
export function isCleanClose(error: unknown): boolean {
  return isMajraError(error, 'ERR_IPC_CONNECTION_CLOSED') || isMajraError(error, 'ERR_CLOSED');
}

/**
 * Yields `next()` until it rejects with a clean close (then ends); any other error is
 * thrown. Backs `messages()` and `frames()` of both connection kinds.
 *
 * @internal
 */
export async function* untilCleanClose<T>(
  next: () => Promise<T>,
): AsyncGenerator<T, void, undefined> {
  for (;;) {
    try {
      yield await next();
    } catch (error) {
      if (isCleanClose(error)) return;
      throw error;
    }
  }
}

/** Counts `error` in `majra_ipc_errors_total` when its code is one of the IPC kinds. @internal */
export function countIpcError(metrics: MetricsSink, error: unknown): void {
  if (!(error instanceof MajraError)) return;
  const labels = errorLabels(error.code);
  if (labels !== undefined) metrics.increment(IPC_ERRORS, 1, labels);
}

/** Parses a received body as JSON; a malformed one is counted, then thrown. @internal */
export function decodeCounted(body: Buffer, metrics: MetricsSink): unknown {
  try {
    return decodeJsonBody(body);
  } catch (error) {
    countIpcError(metrics, error);
    throw error;
  }
}

/** `error` as an Error (non-errors are wrapped with their string form). @internal */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** Removes the first occurrence of `item` from `list`, if any. @internal */
export function removeItem<T>(list: T[], item: T): void {
  const index = list.indexOf(item);
  if (index >= 0) list.splice(index, 1);
}
