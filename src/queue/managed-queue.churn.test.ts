// Boundedness under churn: finished jobs, the ledger, waiters, subscribers and event
// buffers all stay bounded while tens of thousands of jobs pass through.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock.js';
import { ConcurrentPriorityQueue } from './concurrent-priority-queue.js';
import { ManagedQueue } from './managed-queue.js';
import { MemoryQueueStore } from './memory-queue-store.js';
import { Priority } from './priority.js';

describe('ManagedQueue under churn', () => {
  it('keeps finished jobs, store rows, ledger and event buffers bounded', async () => {
    const clock = new ManualClock();
    const store = new MemoryQueueStore();
    const q = await ManagedQueue.restore<number>(store, {
      running: 'requeue',
      clock,
      finishedTtlMs: 50,
      autoEvictIntervalMs: 10,
      maxConcurrency: 8,
      capacity: { gpuCount: 8, vramMb: 64_000 },
    });
    const idle = q.events({ capacity: 64 }); // never read
    let total = 0;
    q.onEvent(() => total++);
    let maxJobs = 0;
    for (let i = 0; i < 10_000; i++) {
      await q.enqueue((i % 5) as Priority, i, { resources: { gpuCount: 1, vramMb: 1000 } });
      const job = await q.dequeue();
      if (i % 3 === 0) await q.fail(job!.id);
      else if (i % 7 === 0) await q.cancel(job!.id);
      else await q.complete(job!.id);
      if (i % 10 === 0) await clock.advanceAsync(1);
      maxJobs = Math.max(maxJobs, q.jobCount);
    }
    // 10 jobs per ms, TTL 50 ms, sweep every 10 ms: never more than ~600 retained.
    expect(maxJobs).toBeLessThanOrEqual(700);
    expect(store.size).toBe(q.jobCount);
    expect(idle.buffered).toBe(64);
    expect(total).toBeGreaterThan(10_000 * 4);
    expect(idle.lagged).toBe(total - 64);
    expect(q.ledger!.size).toBe(0);
    await clock.advanceAsync(100);
    expect(q.jobCount).toBe(0);
    expect(store.size).toBe(0);
    await q.close();
  });

  it('does not accumulate aborted waiters or dropped subscribers', async () => {
    const q = new ManagedQueue<number>();
    for (let i = 0; i < 2000; i++) {
      const controller = new AbortController();
      const waiting = q.dequeueWait(undefined, { signal: controller.signal });
      await new Promise((r) => setImmediate(r));
      controller.abort();
      await waiting.catch(() => undefined);
      const stream = q.events();
      await stream.return();
      q.onEvent(() => undefined)();
    }
    expect(q.waiting).toBe(0);
    expect(q.subscriberCount).toBe(0);
    const cq = new ConcurrentPriorityQueue<number>();
    for (let i = 0; i < 2000; i++) {
      const controller = new AbortController();
      const waiting = cq.dequeueWait({ signal: controller.signal });
      controller.abort();
      await waiting.catch(() => undefined);
    }
    expect(cq.waiting).toBe(0);
  });
});
