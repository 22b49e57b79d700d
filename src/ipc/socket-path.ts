/**
 * Unix socket path checks and system-error wrapping shared by the server and the
 * connection.
 *
 * @internal
 * @module
 */
import { BackendError, InvalidArgumentError } from '../core/errors.js';
import { nonEmptyString } from '../core/validate.js';

/**
 * Longest Unix socket path in bytes: `sun_path` is 108 bytes on Linux and 104 on
 * macOS/BSD, including the terminating NUL.
 */
export const MAX_SOCKET_PATH_BYTES = process.platform === 'linux' ? 107 : 103;

/** Validates a socket path: a non-empty string within the OS length limit. */
export function validateSocketPath(path: unknown): string {
  const value = nonEmptyString('path', path, 4096);
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new InvalidArgumentError(
      `path: socket path is ${bytes} bytes, the limit on ${process.platform} is ${MAX_SOCKET_PATH_BYTES}`,
      { code: 'ERR_IPC_PATH_TOO_LONG', details: { bytes, maxBytes: MAX_SOCKET_PATH_BYTES } },
    );
  }
  if (value.includes('\0')) {
    throw new InvalidArgumentError('path: expected no NUL byte', { code: 'ERR_INVALID_ARGUMENT' });
  }
  return value;
}

/** The errno code of a system error (`ENOENT`, ...), if any. */
export function errnoCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code: unknown = error.code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** Wraps a system error as `ERR_IPC_IO`, keeping the errno code in `details.errno`. */
export function ioError(what: string, error: unknown): BackendError {
  const errno = errnoCode(error);
  const message = error instanceof Error ? error.message : String(error);
  return new BackendError(`${what}: ${message}`, {
    code: 'ERR_IPC_IO',
    cause: error,
    details: errno === undefined ? {} : { errno },
  });
}
