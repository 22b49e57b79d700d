import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isMajraError } from '../core/errors.js';
import {
  isWildcardPattern,
  matchesPattern,
  MAX_TOPIC_DEPTH,
  MAX_TOPIC_LENGTH,
  validatePattern,
  validateTopic,
} from './topic.js';
import { patternArb, referenceMatch, topicArb } from '../../test/support/topic-reference.js';

const deep = (n: number): string => Array.from({ length: n }, (_, i) => `l${i}`).join('/');

/** [pattern, topic, expected] under DESIGN.md §5. */
const TABLE: readonly (readonly [string, string, boolean])[] = [
  ['a/b/c', 'a/b/c', true],
  ['a/b/c', 'a/b/d', false],
  ['a/b/c', 'a/b', false],
  ['a/b', 'a/b/c', false],
  ['a/*/c', 'a/b/c', true],
  ['a/+/c', 'a/b/c', true],
  ['a/*/c', 'a/b/d/c', false],
  ['a/+/c', 'a/b/d/c', false],
  ['a/*', 'a', false],
  ['a/+', 'a', false],
  ['a/*', 'a/', true],
  ['a/+', 'a/', true],
  ['+', 'a', true],
  ['+', 'a/b', false],
  ['+', '/', false],
  ['+/+', '/', true],
  ['a/+/b', 'a//b', true],
  ['a/#', 'a/b/c/d', true],
  ['a/#', 'a', true],
  ['a/#', 'a/', true],
  ['a/#', 'b', false],
  ['a/#', 'ab', false],
  ['sport/#', 'sport', true],
  ['sport/tennis/#', 'sport', false],
  ['#', 'a', true],
  ['#', '/', true],
  ['#', deep(32), true],
  ['l0/#', deep(32), true],
  [deep(32), deep(32), true],
  ['+/#', 'a', true],
  ['+/#', 'a/b/c', true],
  ['/a', '/a', true],
  ['+/a', '/a', true],
  ['a/', 'a', false],
  ['a/', 'a/', true],
  ['A', 'a', false],
  ['$SYS/+', '$SYS/x', true],
  ['#', '$SYS/x', true],
  ['caf\u00e9/+', 'caf\u00e9/x', true],
  ['cafe\u0301', 'caf\u00e9', false],
  ['crew/*/status', 'crew/abc/status', true],
  ['crew/#', 'crew/abc/tasks/1', true],
  ['crew/*/status', 'crew/abc/tasks/status', false],
];

const INVALID_PATTERNS: readonly unknown[] = [
  '',
  'a+',
  'a/b*',
  '+a',
  'a/#/b',
  '#/a',
  '##',
  'a/#b',
  'a/b#',
  '+/+#',
  'a\u0000b',
  deep(33),
  'x'.repeat(MAX_TOPIC_LENGTH + 1),
  42,
  null,
  undefined,
  ['a'],
];

const INVALID_TOPICS: readonly unknown[] = [
  '',
  'a/+',
  'a/*',
  '#',
  'a/b#',
  'a+b',
  'nul\u0000',
  deep(33),
  'x'.repeat(MAX_TOPIC_LENGTH + 1),
  7,
  null,
  undefined,
];

describe('matchesPattern', () => {
  it.each(TABLE)('%s vs %s -> %s', (pattern, topic, expected) => {
    expect(matchesPattern(pattern, topic)).toBe(expected);
    expect(referenceMatch(pattern, topic)).toBe(expected);
  });

  it.each(INVALID_PATTERNS.map((p) => [p]))('rejects pattern %#', (pattern) => {
    expect(() => validatePattern(pattern)).toThrow();
    try {
      matchesPattern(pattern as string, 'a');
      expect.unreachable();
    } catch (error) {
      expect(isMajraError(error, 'ERR_PUBSUB_INVALID_PATTERN')).toBe(true);
    }
  });

  it.each(INVALID_TOPICS.map((t) => [t]))('rejects topic %#', (topic) => {
    try {
      validateTopic(topic);
      expect.unreachable();
    } catch (error) {
      expect(isMajraError(error, 'ERR_PUBSUB_INVALID_TOPIC')).toBe(true);
    }
    expect(() => matchesPattern('#', topic as string)).toThrow();
  });

  it('accepts the limits exactly', () => {
    expect(validateTopic(deep(MAX_TOPIC_DEPTH))).toBe(deep(MAX_TOPIC_DEPTH));
    expect(validatePattern(`${deep(31)}/#`)).toBe(`${deep(31)}/#`);
    expect(validateTopic('x'.repeat(MAX_TOPIC_LENGTH)).length).toBe(MAX_TOPIC_LENGTH);
  });

  it('classifies wildcard patterns', () => {
    expect(isWildcardPattern('a/b')).toBe(false);
    expect(isWildcardPattern('a/+')).toBe(true);
    expect(isWildcardPattern('a/*')).toBe(true);
    expect(isWildcardPattern('#')).toBe(true);
  });
});

describe('matchesPattern property', () => {
  it('agrees with the reference matcher', () => {
    fc.assert(
      fc.property(patternArb, topicArb, (pattern, topic) => {
        expect(matchesPattern(pattern, topic)).toBe(referenceMatch(pattern, topic));
      }),
      { numRuns: 5000 },
    );
  });

  it('never throws anything but a MajraError on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (pattern, topic) => {
        try {
          matchesPattern(pattern, topic);
        } catch (error) {
          expect(isMajraError(error)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
