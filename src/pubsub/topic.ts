/**
 * Topic and pattern rules (DESIGN.md §5): levels split on `/`; `+` and `*` match exactly
 * one level (empty levels count); `#` matches zero or more levels and must be the last
 * level (`sport/#` matches `sport`); a wildcard fills a whole level; published topics
 * carry no wildcard character; at most 32 levels. Invalid input is a typed error, never
 * a silent literal.
 *
 * @module
 */
import { InvalidArgumentError } from '../core/errors.js';
import { describeValue } from '../core/validate.js';

/** Deepest topic or pattern accepted, in levels. */
export const MAX_TOPIC_DEPTH = 32;
/** Longest topic or pattern accepted, in UTF-16 code units. */
export const MAX_TOPIC_LENGTH = 65_536;

const SLASH = 0x2f;
const PLUS = 0x2b;
const STAR = 0x2a;
const HASH = 0x23;
const NUL = 0x00;

function topicError(topic: unknown, why: string): InvalidArgumentError {
  return new InvalidArgumentError(`topic: ${why}, got ${describeValue(topic)}`, {
    code: 'ERR_PUBSUB_INVALID_TOPIC',
    details: { reason: why },
  });
}

function patternError(pattern: unknown, why: string): InvalidArgumentError {
  return new InvalidArgumentError(`pattern: ${why}, got ${describeValue(pattern)}`, {
    code: 'ERR_PUBSUB_INVALID_PATTERN',
    details: { reason: why },
  });
}

/**
 * Returns `topic` when it is a valid published topic: a non-empty string of at most
 * {@link MAX_TOPIC_LENGTH} characters and {@link MAX_TOPIC_DEPTH} levels, without `+`,
 * `*`, `#` or NUL.
 *
 * @throws InvalidArgumentError with code `ERR_PUBSUB_INVALID_TOPIC`.
 */
export function validateTopic(topic: unknown): string {
  if (typeof topic !== 'string') throw topicError(topic, 'expected a string');
  const length = topic.length;
  if (length === 0) throw topicError(topic, 'expected a non-empty topic');
  if (length > MAX_TOPIC_LENGTH) {
    throw topicError(topic, `expected at most ${MAX_TOPIC_LENGTH} characters`);
  }
  let levels = 1;
  for (let i = 0; i < length; i++) {
    const c = topic.charCodeAt(i);
    if (c === SLASH) {
      if (++levels > MAX_TOPIC_DEPTH) {
        throw topicError(topic, `expected at most ${MAX_TOPIC_DEPTH} levels`);
      }
    } else if (c === PLUS || c === STAR || c === HASH) {
      throw topicError(topic, 'a published topic may not contain "+", "*" or "#"');
    } else if (c === NUL) {
      throw topicError(topic, 'a topic may not contain NUL');
    }
  }
  return topic;
}

/**
 * Returns `pattern` when it is a valid subscription pattern: the topic rules, except
 * that a level may be exactly `+` or `*` (one level) or, as the last level only, `#`
 * (zero or more levels). A wildcard inside a level (`a+`, `b*c`) is invalid.
 *
 * @throws InvalidArgumentError with code `ERR_PUBSUB_INVALID_PATTERN`.
 */
export function validatePattern(pattern: unknown): string {
  if (typeof pattern !== 'string') throw patternError(pattern, 'expected a string');
  const length = pattern.length;
  if (length === 0) throw patternError(pattern, 'expected a non-empty pattern');
  if (length > MAX_TOPIC_LENGTH) {
    throw patternError(pattern, `expected at most ${MAX_TOPIC_LENGTH} characters`);
  }
  let levels = 1;
  let levelStart = 0;
  for (let i = 0; i < length; i++) {
    const c = pattern.charCodeAt(i);
    if (c === SLASH) {
      if (++levels > MAX_TOPIC_DEPTH) {
        throw patternError(pattern, `expected at most ${MAX_TOPIC_DEPTH} levels`);
      }
      levelStart = i + 1;
    } else if (c === PLUS || c === STAR || c === HASH) {
      const next = i + 1 < length ? pattern.charCodeAt(i + 1) : SLASH;
      if (i !== levelStart || next !== SLASH) {
        throw patternError(pattern, 'a wildcard must fill a whole level');
      }
      if (c === HASH && i + 1 !== length) {
        throw patternError(pattern, '"#" is only allowed as the last level');
      }
    } else if (c === NUL) {
      throw patternError(pattern, 'a pattern may not contain NUL');
    }
  }
  return pattern;
}

/** True when a (valid) pattern contains a wildcard level. */
export function isWildcardPattern(pattern: string): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charCodeAt(i);
    if (c === PLUS || c === STAR || c === HASH) return true;
  }
  return false;
}

/**
 * Matches a validated pattern against a validated topic without allocating.
 *
 * @internal Callers must have validated both strings.
 */
export function matchValidated(pattern: string, topic: string): boolean {
  const pl = pattern.length;
  const tl = topic.length;
  let pi = 0;
  let ti = 0;
  for (;;) {
    let pe = pattern.indexOf('/', pi);
    if (pe < 0) pe = pl;
    const plen = pe - pi;
    const first = pattern.charCodeAt(pi);
    if (plen === 1 && first === HASH) return true;
    if (ti > tl) return false;
    let te = topic.indexOf('/', ti);
    if (te < 0) te = tl;
    if (!(plen === 1 && (first === PLUS || first === STAR))) {
      if (te - ti !== plen) return false;
      for (let k = 0; k < plen; k++) {
        if (pattern.charCodeAt(pi + k) !== topic.charCodeAt(ti + k)) return false;
      }
    }
    pi = pe + 1;
    ti = te + 1;
    if (pi > pl) return ti > tl;
  }
}

/**
 * True when `topic` matches `pattern` under the rules of this module.
 *
 * @example
 * ```ts
 * matchesPattern('sport/+/score', 'sport/tennis/score'); // true
 * matchesPattern('sport/#', 'sport');                    // true
 * matchesPattern('a/#/b', 'a/x/b');                      // throws ERR_PUBSUB_INVALID_PATTERN
 * ```
 * @throws InvalidArgumentError (`ERR_PUBSUB_INVALID_PATTERN` / `ERR_PUBSUB_INVALID_TOPIC`).
 */
export function matchesPattern(pattern: string, topic: string): boolean {
  validatePattern(pattern);
  validateTopic(topic);
  return matchValidated(pattern, topic);
}
