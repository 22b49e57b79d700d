import { BackendError, NotFoundError } from '../core/errors.js';

/** Maps a dial error to the transport's typed errors. @internal */
export function dialError(endpoint: string, error: unknown): Error {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'ENOTFOUND') {
    return new NotFoundError(`nothing listens at ${endpoint}`, {
      code: 'ERR_TRANSPORT_UNKNOWN_ENDPOINT',
      cause: error,
      details: { endpoint },
    });
  }
  if (
    error instanceof Error &&
    'code' in error &&
    typeof error.code === 'string' &&
    error.code.startsWith('ERR_') &&
    !error.code.startsWith('ERR_SSL') &&
    !error.code.startsWith('ERR_TLS')
  ) {
    // Already a majra error (abort, timeout) or a Node argument error: keep it.
    return error;
  }
  return new BackendError(
    `connect to ${endpoint} failed: ${error instanceof Error ? error.message : String(error)}`,
    {
      code: 'ERR_TRANSPORT_CONNECT_FAILED',
      cause: error,
      details: { endpoint },
    },
  );
}
