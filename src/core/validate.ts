import { InvalidArgumentError } from './errors.js';
import type { CodeOf } from './error-codes.js';

/**
 * Option and argument validation with one message shape everywhere:
 * `<name>: expected <what>, got <value>`.
 *
 * @internal
 */

type Code = CodeOf<'InvalidArgumentError'>;

/** Renders a received value for an error message without dumping large inputs. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    const shown = value.length > 64 ? `${value.slice(0, 64)}…` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === null)
    return String(value);
  if (value === undefined) return 'undefined';
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  return `a ${typeof value}`;
}

/** Throws {@link InvalidArgumentError} with the standard message. */
export function invalid(name: string, expected: string, got: unknown, code?: Code): never {
  throw new InvalidArgumentError(`${name}: expected ${expected}, got ${describeValue(got)}`, {
    ...(code === undefined ? {} : { code }),
    details: { option: name, expected },
  });
}

/** An integer in `[min, max]`. NaN, Infinity and fractions are refused. */
export function integerInRange(
  name: string,
  value: unknown,
  min: number,
  max: number,
  code?: Code,
): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    invalid(name, `an integer from ${min} to ${max}`, value, code);
  }
  return value;
}

/** A positive integer up to `max` (default 2^53 - 1). */
export function positiveInteger(
  name: string,
  value: unknown,
  max = Number.MAX_SAFE_INTEGER,
  code?: Code,
): number {
  return integerInRange(name, value, 1, max, code);
}

/** A non-negative integer up to `max` (default 2^53 - 1). */
export function nonNegativeInteger(
  name: string,
  value: unknown,
  max = Number.MAX_SAFE_INTEGER,
  code?: Code,
): number {
  return integerInRange(name, value, 0, max, code);
}

/** A finite number strictly greater than zero. */
export function positiveNumber(name: string, value: unknown, code?: Code): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    invalid(name, 'a finite number greater than 0', value, code);
  }
  return value;
}

/** A finite number greater than or equal to zero. */
export function nonNegativeNumber(name: string, value: unknown, code?: Code): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    invalid(name, 'a finite number of at least 0', value, code);
  }
  return value;
}

/** A function. */
export function isFunction(name: string, value: unknown, code?: Code): void {
  if (typeof value !== 'function') invalid(name, 'a function', value, code);
}

/** A non-empty string no longer than `maxLength`. */
export function nonEmptyString(
  name: string,
  value: unknown,
  maxLength = 65_536,
  code?: Code,
): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) {
    invalid(name, `a non-empty string of at most ${maxLength} characters`, value, code);
  }
  return value;
}

/** An AbortSignal or undefined. */
export function optionalSignal(name: string, value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) invalid(name, 'an AbortSignal', value);
  return value;
}

/** True for C0 control characters and DEL. */
export function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}
