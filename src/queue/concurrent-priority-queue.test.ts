import { describe, expect, it } from 'vitest';
import { ConcurrentPriorityQueue } from './concurrent-priority-queue.js';
import { createQueueItem } from './priority-queue.js';
import { Priority } from './priority.js';

describe('ConcurrentPriorityQueue', () => {
  it('rejects a bad name option with ERR_INVALID_ARGUMENT', () => {
    for (const name of ['', 'x'.repeat(129), 7 as unknown as string]) {
      expect(() => new ConcurrentPriorityQueue({ name })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }) as Error,
      );
    }
  });

  it('orders like PriorityQueue (scenario 1)', () => {
    const q = new ConcurrentPriorityQueue<string>();
    q.enqueue(createQueueItem(Priority.Low, 'low'));
    q.enqueue(createQueueItem(Priority.Critical, 'critical'));
    q.enqueue(createQueueItem(Priority.Normal, 'normal'));
    expect([q.dequeue(), q.dequeue(), q.dequeue()].map((i) => i?.payload)).toEqual([
      'critical',
      'normal',
      'low',
    ]);
    expect(q.isEmpty()).toBe(true);
  });

  it('resolves a parked dequeueWait with the next enqueue (scenario 4)', async () => {
    const q = new ConcurrentPriorityQueue<string>();
    const waiting = q.dequeueWait();
    expect(q.waiting).toBe(1);
    q.enqueue(createQueueItem(Priority.High, 'job'));
    expect((await waiting).payload).toBe('job');
    expect(q.size).toBe(0);
  });

  it('serves waiters first come first served', async () => {
    const q = new ConcurrentPriorityQueue<number>();
    const first = q.dequeueWait();
    const second = q.dequeueWait();
    q.enqueue(createQueueItem(Priority.Low, 1));
    q.enqueue(createQueueItem(Priority.Critical, 2));
    expect((await first).payload).toBe(1);
    expect((await second).payload).toBe(2);
  });

  it('4 producers x 25 enqueues then exactly 100 dequeues (scenario 5)', async () => {
    const q = new ConcurrentPriorityQueue<number>();
    await Promise.all(
      [0, 1, 2, 3].map(async (p) => {
        for (let i = 0; i < 25; i++) {
          q.enqueue(createQueueItem((i % 5) as Priority, p * 100 + i));
          await new Promise((r) => setImmediate(r));
        }
      }),
    );
    expect(q.size).toBe(100);
    let n = 0;
    while (q.dequeue() !== undefined) n++;
    expect(n).toBe(100);
  });

  it('an aborted waiter rejects and consumes nothing (scenario 27)', async () => {
    const q = new ConcurrentPriorityQueue<number>();
    const controller = new AbortController();
    const aborted = q.dequeueWait({ signal: controller.signal });
    const next = q.dequeueWait();
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(q.waiting).toBe(1);
    q.enqueue(createQueueItem(Priority.Normal, 7));
    expect((await next).payload).toBe(7);
    await expect(q.dequeueWait({ signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'ERR_ABORTED',
    });
  });

  it('close rejects waiters and later enqueues, but queued items can drain', async () => {
    const q = new ConcurrentPriorityQueue<number>();
    const waiting = q.dequeueWait();
    await q.close();
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    expect(() => q.enqueue(createQueueItem(Priority.Low, 1))).toThrow(
      expect.objectContaining({ code: 'ERR_CLOSED' }) as Error,
    );
    await expect(q.dequeueWait()).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    expect(q.isClosed).toBe(true);
    await q.close();
  });

  it('an invalid priority while a waiter is parked leaves the waiter parked', () => {
    const q = new ConcurrentPriorityQueue<number>();
    void q.dequeueWait().catch(() => undefined);
    expect(() => q.enqueue({ id: 'x', priority: 9 as Priority, payload: 1 })).toThrow();
    expect(q.waiting).toBe(1);
    return q.close();
  });
});
