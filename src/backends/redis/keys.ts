import type { Namespace } from '../../core/namespace.js';
import { InvalidArgumentError } from '../../core/errors.js';
import { describeValue, hasControlCharacter } from '../../core/validate.js';

/** Longest accepted key prefix or object name, in UTF-16 code units. */
export const MAX_REDIS_PREFIX_LENGTH = 512;

/** The default key prefix of every Redis-backed primitive. */
export const DEFAULT_REDIS_PREFIX = 'majra:';

/**
 * Validates a key prefix or object name. Any printable text is accepted (glob characters
 * included: they are escaped wherever a pattern is built), but control characters are
 * refused so keys stay readable in `redis-cli` and logs, and the length is bounded.
 *
 * @internal
 */
export function validateKeyPart(name: string, value: unknown, allowEmpty = false): string {
  if (
    typeof value !== 'string' ||
    (!allowEmpty && value.length === 0) ||
    value.length > MAX_REDIS_PREFIX_LENGTH ||
    hasControlCharacter(value)
  ) {
    throw new InvalidArgumentError(
      `${name}: expected ${allowEmpty ? '0' : '1'} to ${MAX_REDIS_PREFIX_LENGTH} characters without control characters, got ${describeValue(value)}`,
      { code: 'ERR_REDIS_INVALID_PREFIX', details: { option: name } },
    );
  }
  return value;
}

/** Options shared by every Redis-backed primitive for key scoping. */
export interface RedisKeyOptions {
  /** Prefix of every key this object touches. @defaultValue `'majra:'` */
  readonly prefix?: string;
  /** Tenant scope: keys become `<prefix><tenant>:<name>...`. */
  readonly namespace?: Namespace;
}

/**
 * Builds the base key `<prefix>[<tenant>:]<name>` of one object; its keys are the base
 * followed by `:` and a fixed suffix. Keys are only ever passed as arguments, never
 * spliced into command text.
 *
 * @internal
 */
export function baseKey(options: RedisKeyOptions, kind: string, name: string): string {
  const prefix = validateKeyPart('prefix', options.prefix ?? DEFAULT_REDIS_PREFIX, true);
  validateKeyPart('name', name);
  const scoped = options.namespace === undefined ? name : options.namespace.key(name);
  return `${prefix}${kind}:${scoped}`;
}

const GLOB_META = /[*?[\]\\]/g;

/** Escapes every Redis glob metacharacter (`* ? [ ] \`) so `text` matches only itself. */
export function escapeGlob(text: string): string {
  return text.replace(GLOB_META, (c) => `\\${c}`);
}
