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
import { InvalidArgumentError, TimeoutError } from '../core/errors.js';
import { isThenable, RunAbort } from './run-abort.js';

/**
 * Converts an executor's result into the JSON stored for it: `undefined` becomes `null`,
 * values go through `JSON.stringify` (so a Date becomes its ISO string, a class instance
 * its enumerable fields).
 *
 * `what` names the value in errors; with `id`, as `what 'id'` (built only for an error).
 *
 * @throws InvalidArgumentError `ERR_WORKFLOW_RESULT_NOT_SERIALIZABLE` for a value JSON
 *   cannot represent (cycle, BigInt, a bare function or symbol) or one larger than `maxBytes`.
 */
export function toStoredJson(
  value: unknown,
  maxBytes: number,
  what: string,
  id?: string,
): JsonValue {
  if (value === undefined) return null;
  // Scalars skip the JSON round trip when even their longest JSON text fits (a string's
  // UTF-8 text is at most 6 bytes per UTF-16 unit, escapes included, plus the quotes).
  if (maxBytes >= 64) {
    if (typeof value === 'number') return Number.isFinite(value) ? value + 0 : null;
    if (typeof value === 'boolean' || value === null) return value;
  }
  if (typeof value === 'string' && value.length * 6 + 2 <= maxBytes) return value;
  if (id !== undefined) what = `${what} '${id}'`;
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
 * Runs `call` with an abort state of its own (its signal built only if the executor reads
 * it) that aborts when the run aborts or after `timeoutMs`; stops waiting the moment it
 * aborts, rejecting with the reason.
 */
export async function runWithTimeout(
  call: (abort: RunAbort) => unknown,
  run: RunAbort,
  timeoutMs: number,
  clock: Clock,
  stepId: string,
): Promise<unknown> {
  if (run.reason !== undefined) throw run.reason;
  const abort = new RunAbort();
  const unwatch = run.watch((reason) => abort.abort(reason));
  const timer = clock.setTimer(timeoutMs, () => {
    abort.abort(
      new TimeoutError(`step '${stepId}' timed out after ${timeoutMs} ms`, {
        code: 'ERR_WORKFLOW_STEP_TIMEOUT',
      }),
    );
  });
  try {
    const value = call(abort);
    return await (isThenable(value) ? abort.race(value) : value);
  } finally {
    timer.cancel();
    unwatch();
  }
}
