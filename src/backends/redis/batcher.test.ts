import { describe, expect, it } from 'vitest';
import { Batcher } from './batcher.js';

describe('Batcher', () => {
  it('coalesces calls of one tick into one run, in call order', async () => {
    const runs: number[][] = [];
    const batcher = new Batcher<number, number>(
      (items) => {
        runs.push([...items]);
        return Promise.resolve(items.map((x) => x * 2));
      },
      { maxItems: 100 },
    );
    const results = await Promise.all([1, 2, 3].map((x) => batcher.add(x)));
    expect(results).toEqual([2, 4, 6]);
    expect(runs).toEqual([[1, 2, 3]]);
  });

  it('splits by maxItems and maxBytes', async () => {
    const runs: string[][] = [];
    const batcher = new Batcher<string, string>(
      (items) => {
        runs.push([...items]);
        return Promise.resolve(items);
      },
      { maxItems: 2, maxBytes: 5, sizeOf: (s) => s.length },
    );
    await Promise.all(['a', 'b', 'c', 'dddd', 'ee'].map((s) => batcher.add(s)));
    expect(runs).toEqual([['a', 'b'], ['c', 'dddd'], ['ee']]);
    expect(batcher.pending).toBe(0);
  });

  it('rejects every caller of a failed batch, and a short reply', async () => {
    const failing = new Batcher<number, number>(() => Promise.reject(new Error('down')), {
      maxItems: 10,
    });
    const outcomes = await Promise.allSettled([failing.add(1), failing.add(2)]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    const short = new Batcher<number, number>(() => Promise.resolve([1]), { maxItems: 10 });
    const partial = await Promise.allSettled([short.add(1), short.add(2)]);
    expect(partial.map((o) => o.status)).toEqual(['fulfilled', 'rejected']);
  });
});
