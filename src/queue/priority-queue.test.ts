import { describe, expect, it } from 'vitest';
import { createQueueItem, PriorityQueue } from './priority-queue.js';
import { Priority } from './priority.js';

describe('PriorityQueue', () => {
  it('rejects a bad name option with ERR_INVALID_ARGUMENT', () => {
    for (const name of ['', 'x'.repeat(129), 7 as unknown as string]) {
      expect(() => new PriorityQueue({ name })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }) as Error,
      );
    }
  });

  it('serves tiers strictly, highest first (scenario 1)', () => {
    const q = new PriorityQueue<string>();
    q.enqueue(createQueueItem(Priority.Low, 'low'));
    q.enqueue(createQueueItem(Priority.Critical, 'critical'));
    q.enqueue(createQueueItem(Priority.Normal, 'normal'));
    expect([q.dequeue(), q.dequeue(), q.dequeue()].map((i) => i?.payload)).toEqual([
      'critical',
      'normal',
      'low',
    ]);
    expect(q.isEmpty()).toBe(true);
    expect(q.dequeue()).toBeUndefined();
  });

  it('is FIFO within a tier (scenario 2)', () => {
    const q = new PriorityQueue<number>();
    q.enqueue(createQueueItem(Priority.Normal, 1));
    q.enqueue(createQueueItem(Priority.Normal, 2));
    expect(q.dequeue()?.payload).toBe(1);
    expect(q.dequeue()?.payload).toBe(2);
  });

  it('counts items (scenario 3)', () => {
    const q = new PriorityQueue<number>();
    expect(q.size).toBe(0);
    q.enqueue(createQueueItem(Priority.High, 1));
    expect(q.size).toBe(1);
    expect(q.sizeOf(Priority.High)).toBe(1);
    expect(q.peek()?.payload).toBe(1);
  });

  it('gives fresh UUIDs unless an id is given', () => {
    const a = createQueueItem(Priority.Low, 0);
    const b = createQueueItem(Priority.Low, 0);
    expect(a.id).not.toBe(b.id);
    expect(createQueueItem(Priority.Low, 0, 'mine').id).toBe('mine');
  });

  it('refuses an invalid priority and stays unchanged (scenario 21)', () => {
    const q = new PriorityQueue<number>();
    for (const bad of [7, -1, 1.5, Number.NaN]) {
      expect(() => q.enqueue({ id: 'x', priority: bad as Priority, payload: 1 })).toThrow(
        expect.objectContaining({ code: 'ERR_QUEUE_INVALID_PRIORITY' }) as Error,
      );
    }
    expect(() => createQueueItem(5 as Priority, 1)).toThrow();
    expect(q.size).toBe(0);
  });

  it('drains any enqueue sequence completely, in order (scenario 20, large)', () => {
    const q = new PriorityQueue<number>();
    const expected: number[][] = [[], [], [], [], []];
    for (let i = 0; i < 3000; i++) {
      const p = ((i * 7919) % 5) as Priority;
      q.enqueue(createQueueItem(p, i, String(i)));
      expected[p]!.push(i);
      if (i % 3 === 0) {
        // interleave dequeues so the per-tier FIFO compacts while in use
        const item = q.dequeue()!;
        expect(expected[item.priority]!.shift()).toBe(item.payload);
      }
    }
    for (;;) {
      const item = q.dequeue();
      if (item === undefined) break;
      expect(expected[item.priority]!.shift()).toBe(item.payload);
      expect(expected.slice(item.priority + 1).every((t) => t.length === 0)).toBe(true);
    }
    expect(expected.every((t) => t.length === 0)).toBe(true);
  });
});
