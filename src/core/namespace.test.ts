import { describe, expect, it } from 'vitest';
import { Namespace } from './namespace.js';

describe('Namespace', () => {
  const ns = new Namespace('tenant-42');

  it('prefixes topics, patterns, keys and node ids', () => {
    expect(ns.topic('events/created')).toBe('tenant-42/events/created');
    expect(ns.pattern('events/+')).toBe('tenant-42/events/+');
    expect(ns.wildcard()).toBe('tenant-42/#');
    expect(ns.key('user:123')).toBe('tenant-42:user:123');
    expect(ns.nodeId('gpu-1')).toBe('tenant-42:gpu-1');
    expect(String(ns)).toBe('tenant-42');
  });

  it('strips only its own prefix followed by the delimiter', () => {
    expect(ns.stripTopic('tenant-42/events/created')).toBe('events/created');
    expect(ns.stripTopic('tenant-42/')).toBe('');
    expect(ns.stripTopic('tenant-42')).toBeUndefined();
    expect(ns.stripTopic('tenant-420/x')).toBeUndefined();
    expect(ns.stripTopic('other/x')).toBeUndefined();
    expect(ns.stripKey('tenant-42:k')).toBe('k');
    expect(ns.stripKey('tenant-4:k')).toBeUndefined();
    expect(ns.ownsTopic('tenant-42/a')).toBe(true);
    expect(ns.ownsTopic('tenant-42x/a')).toBe(false);
  });

  it('a prefix of a prefix never cross-strips', () => {
    const a = new Namespace('tenant');
    const b = new Namespace('tenant-2');
    expect(a.stripTopic(b.topic('x'))).toBeUndefined();
    expect(b.stripTopic(a.topic('x'))).toBeUndefined();
    expect(a.stripKey(b.key('x'))).toBeUndefined();
  });

  it('compares by prefix', () => {
    expect(new Namespace('a').equals(new Namespace('a'))).toBe(true);
    expect(new Namespace('a').equals(new Namespace('b'))).toBe(false);
  });

  it.each([
    '',
    'a/b',
    'a:b',
    'a#',
    '#',
    '+',
    'x*',
    'nul\u0000',
    'tab\t',
    'del\u007f',
    'x'.repeat(129),
  ])('rejects the unsafe prefix %j', (prefix) => {
    expect(() => new Namespace(prefix)).toThrow(
      expect.objectContaining({ code: 'ERR_NAMESPACE_INVALID_PREFIX' }),
    );
  });

  it('rejects non-strings', () => {
    expect(() => new Namespace(5 as unknown as string)).toThrow(
      expect.objectContaining({ code: 'ERR_NAMESPACE_INVALID_PREFIX' }),
    );
  });
});
