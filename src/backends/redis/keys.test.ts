import { describe, expect, it } from 'vitest';
import { Namespace } from '../../core/namespace.js';
import { baseKey, escapeGlob, validateKeyPart } from './keys.js';
import { toRedisPattern } from './pubsub.js';

describe('redis keys', () => {
  it('escapes every glob metacharacter and nothing else', () => {
    expect(escapeGlob('a*b?c[d]e\\f g"h\'')).toBe('a\\*b\\?c\\[d\\]e\\\\f g"h\'');
    expect(escapeGlob('plain:key/1')).toBe('plain:key/1');
  });

  it('builds base keys from prefix, kind, tenant and name', () => {
    expect(baseKey({}, 'queue', 'jobs')).toBe('majra:queue:jobs');
    expect(baseKey({ prefix: 'app:' }, 'ratelimit', 'api')).toBe('app:ratelimit:api');
    expect(baseKey({ prefix: '', namespace: new Namespace('t1') }, 'queue', 'q')).toBe(
      'queue:t1:q',
    );
  });

  it('refuses control characters, empty names and over-long parts with ERR_REDIS_INVALID_PREFIX', () => {
    for (const bad of ['', 'a\nb', 'nul\0', 'x'.repeat(513), 42]) {
      expect(() => validateKeyPart('name', bad)).toThrow(
        expect.objectContaining({ code: 'ERR_REDIS_INVALID_PREFIX' }),
      );
    }
    expect(validateKeyPart('prefix', '', true)).toBe('');
    expect(() => baseKey({ prefix: 'a\r' }, 'queue', 'q')).toThrow(/prefix/);
  });

  it('translates majra patterns to escaped Redis globs', () => {
    expect(toRedisPattern('p:', 'a/+/c')).toBe('p:a/*/c');
    expect(toRedisPattern('p:', 'a/*')).toBe('p:a/*');
    expect(toRedisPattern('p:', 'a/#')).toBe('p:a*');
    expect(toRedisPattern('p[1]:', '#')).toBe('p\\[1\\]:*');
    expect(toRedisPattern('p:', 'x?/[y]')).toBe('p:x\\?/\\[y\\]');
  });
});
