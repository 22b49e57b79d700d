import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { patternArb, referenceMatch, topicArb } from '../../test/support/topic-reference.js';
import { TopicIndex } from './topic-index.js';

interface Entry {
  readonly pattern: string;
  readonly seq: number;
}

function matchAll(index: TopicIndex<Entry>, topic: string): string[] {
  const out: string[] = [];
  const exact = index.exact(topic);
  if (exact !== undefined) out.push(exact.pattern);
  for (const e of index.matchWildcards(topic)) out.push(e.pattern);
  return out.sort();
}

describe('TopicIndex', () => {
  it('finds exact and wildcard entries, wildcard ones in seq order', () => {
    const index = new TopicIndex<Entry>();
    const patterns = ['a/b', 'a/#', '+/b', 'a/*', '#', 'a/b/c', 'x/+'];
    patterns.forEach((pattern, seq) => index.add({ pattern, seq }));
    expect(index.size).toBe(7);
    expect(index.wildcardCount).toBe(5);
    expect(index.exact('a/b')?.pattern).toBe('a/b');
    expect(index.matchWildcards('a/b').map((e) => e.pattern)).toEqual(['a/#', '+/b', 'a/*', '#']);
    expect(index.matchWildcards('a').map((e) => e.pattern)).toEqual(['a/#', '#']);
    expect(index.matchWildcards('q/r/s').map((e) => e.pattern)).toEqual(['#']);
  });

  it('keeps the cache exact across add and delete', () => {
    const index = new TopicIndex<Entry>(4);
    index.add({ pattern: 'a/+', seq: 1 });
    expect(index.matchWildcards('a/b').length).toBe(1);
    expect(index.cacheSize).toBe(1);
    index.add({ pattern: 'a/#', seq: 2 });
    expect(index.matchWildcards('a/b').map((e) => e.pattern)).toEqual(['a/+', 'a/#']);
    index.delete('a/+');
    expect(index.matchWildcards('a/b').map((e) => e.pattern)).toEqual(['a/#']);
    for (const t of ['t1', 't2', 't3', 't4', 't5', 't6']) index.matchWildcards(t);
    expect(index.cacheSize).toBe(4);
  });

  it('a returned match array is a snapshot', () => {
    const index = new TopicIndex<Entry>();
    index.add({ pattern: 'a/+', seq: 1 });
    const before = index.matchWildcards('a/b');
    index.add({ pattern: 'a/#', seq: 2 });
    index.delete('a/+');
    expect(before.map((e) => e.pattern)).toEqual(['a/+']);
  });

  it('agrees with the reference matcher under random adds and deletes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), patternArb), { maxLength: 40 }),
        fc.array(topicArb, { minLength: 1, maxLength: 10 }),
        (ops, topics) => {
          const index = new TopicIndex<Entry>(8);
          const live = new Set<string>();
          let seq = 0;
          for (const [add, pattern] of ops) {
            if (add && !live.has(pattern)) {
              index.add({ pattern, seq: seq++ });
              live.add(pattern);
            } else if (!add && live.has(pattern)) {
              expect(index.delete(pattern)).toBe(true);
              live.delete(pattern);
            }
            for (const topic of topics) {
              const expected = [...live].filter((p) => referenceMatch(p, topic)).sort();
              expect(matchAll(index, topic)).toEqual(expected);
            }
          }
          for (const p of live) index.delete(p);
          expect(index.size).toBe(0);
          expect(index.nodeCount).toBe(1);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('returns to its starting size after 1,000,000 add/delete cycles over random patterns', () => {
    const index = new TopicIndex<Entry>(64);
    const levels = ['a', 'b', 'c', 'd', '+', '*', ''];
    let state = 42;
    const rand = (n: number): number => {
      state = (state * 1103515245 + 12345) & 0x7fffffff;
      return state % n;
    };
    const live: string[] = [];
    for (let i = 0; i < 1_000_000; i++) {
      const depth = 1 + rand(5);
      const parts: string[] = [];
      for (let d = 0; d < depth; d++) parts.push(levels[rand(levels.length)] as string);
      if (rand(4) === 0) parts[depth - 1] = '#';
      const pattern = parts.join('/') || 'z';
      if (index.get(pattern) === undefined) {
        index.add({ pattern, seq: i });
        live.push(pattern);
      }
      if (live.length > 50 || rand(2) === 0) {
        const victim = live.splice(rand(live.length), 1)[0];
        if (victim !== undefined) index.delete(victim);
      }
      if ((i & 1023) === 0) index.matchWildcards(`a/b/${i & 7}`);
    }
    for (const p of live) expect(index.delete(p)).toBe(true);
    expect(index.size).toBe(0);
    expect(index.wildcardCount).toBe(0);
    expect(index.nodeCount).toBe(1);
    expect(index.cacheSize).toBe(0);
  });
});
