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

/** Awaits `handler(request)`; never rejects (a failure becomes the answer's `error`). */
export async function runRequestHandler(
  handler: RequestHandler,
  request: RelayMessage,
): Promise<HandlerAnswer> {
  try {
    return { payload: await handler(request) };
  } catch (error) {
    const failure = toError(error);
    const code = (failure as { code?: unknown }).code;
    return {
      payload: null,
      error: { code: typeof code === 'string' ? code : 'ERR_HANDLER', message: failure.message },
    };
  }
}
