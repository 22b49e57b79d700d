/**
 * One attempt of one step: calls the executor with a signal that aborts on run abort or
 * on the step's timeout, stops waiting as soon as that signal aborts (a late result is
 * ignored), and turns the result into a stored JSON value.
 *
 * @internal
 * @module
 */
import type { Clock } from '../core/clock.js';
import type { JsonValue } from '../core/codec.js';
import { InvalidArgumentError, TimeoutError, toError } from '../core/errors.js';
import type { RunAbort } from './run-abort.js';

/**
 * Converts an executor's result into the JSON stored for it: `undefined` becomes `null`,
 * values go through `JSON.stringify` (so a Date becomes its ISO string, a class instance
 * its enumerable fields).
 *
 * @throws InvalidArgumentError `ERR_WORKFLOW_RESULT_NOT_SERIALIZABLE` for a value JSON
 *   cannot represent (cycle, BigInt, a bare function or symbol) or one larger than `maxBytes`.
 */
export function toStoredJson(value: unknown, maxBytes: number, what: string): JsonValue {
  if (value === undefined) return null;
  // Scalars skip the JSON round trip when even their longest JSON text fits (a string's
  // UTF-8 text is at most 6 bytes per UTF-16 unit, escapes included, plus the quotes).
  if (maxBytes >= 64) {
    if (typeof value === 'number') return Number.isFinite(value) ? value + 0 : null;
    if (typeof value === 'boolean' || value === null) return value;
  }
  if (typeof value === 'string' && value.length * 6 + 2 <= maxBytes) return value;
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new InvalidArgumentError(
      `${what} is not JSON-serialisable: ${(error as Error).message}`,
      {
        code: 'ERR_WORKFLOW_RESULT_NOT_SERIALIZABLE',
        cause: error,
      },
    );
  }
  if (typeof text !== 'string') {
    throw new InvalidArgumentError(`${what} is not JSON-serialisable: ${typeof value}`, {
      code: 'ERR_WORKFLOW_RESULT_NOT_SERIALIZABLE',
    });
  }
  // UTF-16 length × 3 bounds the UTF-8 size; measure exactly only when it matters.
  if (text.length * 3 > maxBytes) {
    const size = Buffer.byteLength(text, 'utf8');
    if (size > maxBytes) {
      throw new InvalidArgumentError(
        `${what} is ${size} bytes as JSON, over the limit of ${maxBytes}`,
        { code: 'ERR_WORKFLOW_RESULT_NOT_SERIALIZABLE', details: { size, maxBytes } },
      );
    }
  }
  return JSON.parse(text) as JsonValue;
}

/** Error text of anything thrown: `message` for errors, a JSON or string rendering otherwise. */
export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message === '' ? error.name : error.message;
  if (typeof error === 'string') return error;
  try {
    const json = JSON.stringify(error);
    if (typeof json === 'string') return json;
  } catch {
    // fall through
  }
  return String(error);
}

/**
 * Runs `call(signal)` with a signal of its own that aborts when the run aborts or after
 * `timeoutMs`; rejects with the signal's reason the moment it aborts.
 */
export async function runWithTimeout<T>(
  call: (signal: AbortSignal) => T | Promise<T>,
  run: RunAbort,
  timeoutMs: number,
  clock: Clock,
  stepId: string,
): Promise<T> {
  if (run.reason !== undefined) throw run.reason;
  const controller = new AbortController();
  const signal = controller.signal;
  const unwatch = run.watch((reason) => controller.abort(reason));
  const timer = clock.setTimer(timeoutMs, () => {
    controller.abort(
      new TimeoutError(`step '${stepId}' timed out after ${timeoutMs} ms`, {
        code: 'ERR_WORKFLOW_STEP_TIMEOUT',
      }),
    );
  });
  try {
    return await new Promise<T>((resolve, reject) => {
      const onAbort = (): void => reject(toError(signal.reason));
      signal.addEventListener('abort', onAbort, { once: true });
      // The call may throw synchronously or return a non-promise: both are normalised.
      let result: T | Promise<T>;
      try {
        result = call(signal);
      } catch (error) {
        signal.removeEventListener('abort', onAbort);
        reject(toError(error));
        return;
      }
      Promise.resolve(result).then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(toError(error));
        },
      );
    });
  } finally {
    timer.cancel();
    unwatch();
  }
}
