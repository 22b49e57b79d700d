/**
 * One attempt of one step: calls the executor with a signal that aborts on run abort or
 * on the step's timeout, stops waiting as soon as that signal aborts (a late result is
 * ignored), and turns the result into a stored JSON value.
 *
 * @internal
 * @module
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import type { JsonValue } from '../core/codec.js';
import { InvalidArgumentError, TimeoutError, toError } from '../core/errors.js';

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
 * Runs `call(signal)`; rejects with the signal's reason the moment it aborts. Without a
 * timeout the executor gets the run's own signal (no per-attempt controller to build).
 */
export async function runAttempt<T>(
  call: (signal: AbortSignal) => T | Promise<T>,
  runSignal: AbortSignal,
  timeoutMs: number | undefined,
  clock: Clock,
  stepId: string,
): Promise<T> {
  if (runSignal.aborted) throw toError(runSignal.reason);
  let signal = runSignal;
  let timer: TimerHandle | undefined;
  let onRunAbort: (() => void) | undefined;
  if (timeoutMs !== undefined) {
    const controller = new AbortController();
    onRunAbort = () => controller.abort(runSignal.reason);
    runSignal.addEventListener('abort', onRunAbort, { once: true });
    timer = clock.setTimer(timeoutMs, () => {
      controller.abort(
        new TimeoutError(`step '${stepId}' timed out after ${timeoutMs} ms`, {
          code: 'ERR_WORKFLOW_STEP_TIMEOUT',
        }),
      );
    });
    signal = controller.signal;
  }
  try {
    return await new Promise<T>((resolve, reject) => {
      const onAbort = (): void => reject(toError(signal.reason));
      signal.addEventListener('abort', onAbort, { once: true });
      // The call may throw synchronously or return a non-promise: both are normalised.
      Promise.resolve()
        .then(() => call(signal))
        .then(
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
    timer?.cancel();
    if (onRunAbort !== undefined) runSignal.removeEventListener('abort', onRunAbort);
  }
}
