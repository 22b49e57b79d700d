import { CapacityExceededError, InvalidArgumentError, ProtocolError } from '../../core/errors.js';
import { describeValue, hasControlCharacter, invalid } from '../../core/validate.js';

/**
 * Validation and JSON text encoding for job queue values.
 *
 * @internal
 */

/** Encodes a payload or result as JSON text within `maxBytes`. */
export function encodeValue(value: unknown, maxBytes: number, what: string): string {
  let text: unknown;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new InvalidArgumentError(
      `${what} is not JSON-serialisable: ${(error as Error).message}`,
      {
        code: 'ERR_CODEC_NOT_SERIALIZABLE',
        cause: error,
      },
    );
  }
  if (typeof text !== 'string') {
    throw new InvalidArgumentError(`${what} is not JSON-serialisable: ${describeValue(value)}`, {
      code: 'ERR_CODEC_NOT_SERIALIZABLE',
    });
  }
  if (text.length * 3 > maxBytes) {
    const size = Buffer.byteLength(text, 'utf8');
    if (size > maxBytes) {
      throw new CapacityExceededError(
        `${what}: encoded size ${size} bytes exceeds the limit of ${maxBytes}`,
        { code: 'ERR_CODEC_TOO_LARGE', details: { size, maxBytes } },
      );
    }
  }
  return text;
}

/** Decodes JSON text stored by {@link encodeValue}. */
export function decodeValue(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ProtocolError(`stored job value is not valid JSON: ${(error as Error).message}`, {
      code: 'ERR_CODEC_MALFORMED',
      cause: error,
    });
  }
}

/** A queue name: 1..200 characters, no control characters. */
export function validateQueueName(name: unknown): string {
  if (
    typeof name !== 'string' ||
    name.length === 0 ||
    name.length > 200 ||
    hasControlCharacter(name)
  ) {
    invalid(
      'queue',
      'a string of 1 to 200 characters without control characters',
      name,
      'ERR_POSTGRES_INVALID_QUEUE',
    );
  }
  return name;
}

/** A job id: a positive decimal bigint string. */
export function validateJobId(id: unknown): string {
  if (typeof id !== 'string' || !/^[1-9][0-9]{0,18}$/.test(id) || BigInt(id) > 2n ** 63n - 1n) {
    invalid('id', 'a job id (positive decimal integer string)', id);
  }
  return id;
}

/** An idempotency key: 1..512 characters without NUL (PostgreSQL text cannot hold NUL). */
export function validateIdempotencyKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > 512 || key.includes('\0')) {
    invalid('idempotencyKey', 'a string of 1 to 512 characters without NUL', key);
  }
  return key;
}

/** Text safe to store in a TEXT column: NUL removed, capped at `max` characters. */
export function storableText(text: string, max = 8192): string {
  const clean = text.replaceAll('\0', '');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/** Delay in ms before retry `attempt` (1-based) under a backoff policy. */
export function backoffDelay(
  policy: { type: 'exponential' | 'fixed'; delayMs: number; maxDelayMs: number; jitter: number },
  attempt: number,
  random: () => number = Math.random,
): number {
  const raw =
    policy.type === 'fixed'
      ? policy.delayMs
      : policy.delayMs * 2 ** Math.min(Math.max(0, attempt - 1), 40);
  const capped = Math.min(policy.maxDelayMs, raw);
  return Math.max(0, Math.round(capped * (1 - policy.jitter * random())));
}
