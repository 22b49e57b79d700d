import { describe, expect, it } from 'vitest';
import { DagScheduler, topologicalSort } from './dag-scheduler.js';

function cycleError(fn: () => unknown): { code: string; message: string; details: unknown } {
  try {
    fn();
  } catch (error) {
    return error as { code: string; message: string; details: unknown };
  }
  throw new Error('expected a cycle error');
}

describe('DagScheduler', () => {
  it('diamond ready sets (scenario 6)', () => {
    const s = new DagScheduler({ edges: { a: [], b: ['a'], c: ['a'], d: ['b', 'c'] } });
    expect(s.ready(new Set())).toEqual(['a']);
    expect(s.ready(new Set(['a']))).toEqual(['b', 'c']);
    expect(s.ready(new Set(['a', 'b', 'c']))).toEqual(['d']);
    expect(s.ready(new Set(['a', 'b', 'c', 'd', 'unknown']))).toEqual([]);
  });

  it('throws on a 2-cycle (scenario 7), naming the members', () => {
    const error = cycleError(() => new DagScheduler({ edges: { a: ['b'], b: ['a'] } }));
    expect(error.code).toBe('ERR_QUEUE_DAG_CYCLE');
    expect(error.message).toBe('dependency graph contains a cycle involving: a, b');
    expect(error.details).toEqual({ members: ['a', 'b'] });
  });

  it('sorts a linear chain (scenario 8)', () => {
    expect(topologicalSort({ edges: { b: ['a'], c: ['b'] } })).toEqual(['a', 'b', 'c']);
    expect(
      DagScheduler.topologicalSort({
        edges: new Map([
          ['c', ['b']],
          ['b', ['a']],
        ]),
      }),
    ).toEqual(['a', 'b', 'c']);
  });

  it('auto-adds unknown deps, allows duplicates, handles empty (scenario 32)', () => {
    const s = new DagScheduler({ edges: { x: ['ghost', 'ghost'] } });
    expect(s.size).toBe(2);
    expect(s.ready(new Set())).toEqual(['ghost']);
    expect(s.dependenciesOf('x')).toEqual(['ghost']);
    expect(topologicalSort({ edges: {} })).toEqual([]);
    expect(cycleError(() => topologicalSort({ edges: { self: ['self'] } })).code).toBe(
      'ERR_QUEUE_DAG_CYCLE',
    );
  });

  it('lists every unresolved node, downstream included, sorted (scenario 32)', () => {
    const error = cycleError(() =>
      topologicalSort({ edges: { z: ['y'], y: ['x'], x: ['y'], ok: [], down: ['z'] } }),
    );
    expect(error.details).toEqual({ members: ['down', 'x', 'y', 'z'] });
  });

  it('emits sorted batches in BFS order', () => {
    expect(topologicalSort({ edges: { c: [], b: [], a: ['c'], d: ['b'] } })).toEqual([
      'b',
      'c',
      'd',
      'a',
    ]);
  });

  it('rejects malformed graphs with a typed error', () => {
    expect(() => topologicalSort({ edges: { a: 'b' as unknown as string[] } })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }) as Error,
    );
    expect(() => topologicalSort(null as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }) as Error,
    );
  });
});
