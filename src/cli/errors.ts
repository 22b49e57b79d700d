/**
 * Exit codes and the one error type the command reports. Library errors are MajraErrors;
 * this is the command's boundary, where every failure becomes one line and a code from
 * sysexits(3), never a stack trace.
 *
 * @module
 */

/** Exit codes of the `majra` command. */
export const EXIT = Object.freeze({
  ok: 0,
  failure: 1,
  usage: 2,
  /** EX_UNAVAILABLE: a service (Redis, PostgreSQL, the SQLite file) cannot be reached. */
  unavailable: 69,
  /** EX_TEMPFAIL: another demo is using the same data directory. */
  busy: 75,
  interrupted: 130,
});

/** A failure with the exit code the command should end with. */
export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode: number) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** A bad command line: exit 2. */
export function usageError(message: string): CliError {
  return new CliError(message, EXIT.usage);
}

/** Codes of errors that mean "the service is not there" rather than a bug. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'ECONNRESET',
  'EAI_AGAIN',
  'ERR_BACKEND_UNAVAILABLE',
  'ERR_REDIS_UNREACHABLE',
  'ERR_POSTGRES_UNAVAILABLE',
  'ERR_TIMEOUT',
  'SQLITE_CANTOPEN',
]);

function rootMessage(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 5; depth++) {
    const cause = (current as { cause?: unknown } | null)?.cause;
    if (cause === undefined || cause === null) break;
    current = cause;
  }
  if (current instanceof AggregateError && current.errors.length > 0) current = current.errors[0];
  return current instanceof Error ? current.message : String(current);
}

function codes(error: unknown): string[] {
  const out: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current !== undefined && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') out.push(code);
    if (current instanceof AggregateError) {
      for (const e of current.errors) out.push(...codes(e));
    }
    current = (current as { cause?: unknown }).cause;
  }
  return out;
}

/** Strips credentials from a service URL before it is printed. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

/**
 * Wraps a failure to connect to `service` at `url`: exit 69 with the root cause when it
 * looks like an unreachable service, else exit 1.
 */
export function serviceError(service: string, url: string, error: unknown): CliError {
  const unreachable = codes(error).some((c) => UNREACHABLE.has(c));
  // A majra error already says what failed ("redis: server unreachable: ..."); a raw
  // driver error is best explained by its root cause.
  const top = error instanceof Error && /^ERR_/.test(codes(error)[0] ?? '') ? error.message : '';
  const reason = top || rootMessage(error) || codes(error)[0] || 'unknown error';
  return new CliError(
    `cannot use ${service} at ${redactUrl(url)}: ${reason.split('\n')[0] ?? ''}`,
    unreachable ? EXIT.unavailable : EXIT.failure,
  );
}

/** One line for any error: the first line of its message, without a stack. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const message = error.message.split('\n')[0] ?? '';
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
  }
  return String(error).split('\n')[0] ?? '';
}
