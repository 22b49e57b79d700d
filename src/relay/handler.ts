/**
 * Running a request handler: what a {@link Relay} replies with, the handler's value or
 * the error it threw (reported to the requester as `ERR_RELAY_REMOTE_ERROR`).
 *
 * @internal
 * @module
 */
import type { JsonValue } from '../core/codec.js';
import { toError } from '../core/errors.js';
import type { RelayMessage, RelayRemoteError } from './message.js';
import type { RequestHandler } from './relay-types.js';

/** The reply a handler produced: a payload, or `null` with the error it threw. */
export type HandlerAnswer =
  | { readonly payload: JsonValue; readonly error?: undefined }
  | { readonly payload: null; readonly error: RelayRemoteError };

function failed(error: unknown): HandlerAnswer {
  const failure = toError(error);
  const code = (failure as { code?: unknown }).code;
  return {
    payload: null,
    error: { code: typeof code === 'string' ? code : 'ERR_HANDLER', message: failure.message },
  };
}

/**
 * Runs `handler(request)`. A plain value (or a synchronous throw) is answered at once,
 * so the reply can be written in the same turn as the request was read; a promise is
 * awaited. Never throws or rejects: a failure becomes the answer's `error`.
 */
export function runRequestHandler(
  handler: RequestHandler,
  request: RelayMessage,
): HandlerAnswer | Promise<HandlerAnswer> {
  let result: JsonValue | PromiseLike<JsonValue>;
  try {
    result = handler(request);
  } catch (error) {
    return failed(error);
  }
  if (isThenable(result)) {
    return Promise.resolve(result).then((payload): HandlerAnswer => ({ payload }), failed);
  }
  return { payload: result };
}

function isThenable(value: unknown): value is PromiseLike<JsonValue> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
