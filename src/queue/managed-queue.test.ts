import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock.js';
import { MemoryMetricsSink } from '../testing/memory-metrics.js';
import { ManagedQueue } from './managed-queue.js';
import { Priority } from './priority.js';
import type { QueueEvent } from './types.js';

const GPU4 = { gpuCount: 4, vramMb: 32_000 };
const GPU1 = { gpuCount: 1, vramMb: 8000 };

async function code(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

describe('ManagedQueue basics', () => {
  it('serves priorities strictly (scenario 1)', async () => {
    const q = new ManagedQueue<string>();
    await q.enqueue(Priority.Low, 'low');
    await q.enqueue(Priority.Critical, 'critical');
    await q.enqueue(Priority.Normal, 'normal');
    const out = [];
    for (let i = 0; i < 3; i++) out.push((await q.dequeueAny())!.payload);
    expect(out).toEqual(['critical', 'normal', 'low']);
    expect(q.queuedCount).toBe(0);
    expect(await q.dequeueAny()).toBeUndefined();
  });

  it('enqueue then dequeueAny returns the same id, running (scenario 9)', async () => {
    const q = new ManagedQueue<number>();
    const id = await q.enqueue(Priority.Normal, 1);
    const job = await q.dequeueAny();
    expect(job).toMatchObject({ id, state: 'running', attempts: 1 });
    expect(q.runningCount).toBe(1);
    expect(job!.signal?.aborted).toBe(false);
  });

  it('applies the change before the promise settles (no store)', () => {
    const q = new ManagedQueue<number>();
    void q.enqueue(Priority.Normal, 1);
    expect(q.queuedCount).toBe(1);
    void q.dequeueAny();
    expect(q.runningCount).toBe(1);
  });

  it('caps concurrency exactly (scenario 10, 26)', async () => {
    const q = new ManagedQueue<number>({ maxConcurrency: 2 });
    for (let i = 0; i < 4; i++) await q.enqueue(Priority.Normal, i);
    const a = await q.dequeueAny();
    expect(await q.dequeueAny()).toBeDefined();
    expect(await q.dequeueAny()).toBeUndefined();
    await q.complete(a!.id);
    const c = await q.dequeueAny();
    expect(c).toBeDefined();
    expect(await q.dequeueAny()).toBeUndefined();
    await q.cancel(c!.id); // cancelling a running job frees its slot
    expect(await q.dequeueAny()).toBeDefined();
    // many concurrent dequeuers never overshoot
    const q2 = new ManagedQueue<number>({ maxConcurrency: 3 });
    for (let i = 0; i < 10; i++) await q2.enqueue(Priority.Normal, i);
    const got = await Promise.all(Array.from({ length: 10 }, () => q2.dequeueAny()));
    expect(got.filter(Boolean)).toHaveLength(3);
    expect(q2.runningCount).toBe(3);
  });

  it('maxConcurrency 0 is unlimited (scenario 26)', async () => {
    const q = new ManagedQueue<number>();
    for (let i = 0; i < 50; i++) await q.enqueue(Priority.Normal, i);
    for (let i = 0; i < 50; i++) expect(await q.dequeueAny()).toBeDefined();
    expect(q.runningCount).toBe(50);
  });
});

describe('ManagedQueue resources', () => {
  it('skips a big critical job for a fitting normal one (scenario 11)', async () => {
    const q = new ManagedQueue<string>();
    await q.enqueue(Priority.Critical, 'big', { resources: GPU4 });
    await q.enqueue(Priority.Normal, 'small', { resources: GPU1 });
    expect((await q.dequeue(GPU1))!.payload).toBe('small');
    expect(q.queuedCount).toBe(1);
  });

  it('takes the first fitting job within a tier, leaving the head (scenario 24)', async () => {
    const q = new ManagedQueue<string>();
    await q.enqueue(Priority.Normal, 'big', { resources: GPU4 });
    await q.enqueue(Priority.Normal, 'small', { resources: GPU1 });
    expect((await q.dequeue(GPU1))!.payload).toBe('small');
    expect(q.list({ state: 'queued' }).map((j) => j.payload)).toEqual(['big']);
  });

  it('zero and VRAM-only requests (scenario 25)', async () => {
    const q = new ManagedQueue<string>();
    await q.enqueue(Priority.Normal, 'vram', { resources: { gpuCount: 0, vramMb: 100 } });
    await q.enqueue(Priority.Normal, 'none');
    await q.enqueue(Priority.Normal, 'zero', { resources: { gpuCount: 0, vramMb: 0 } });
    const empty = { gpuCount: 0, vramMb: 0 };
    expect((await q.dequeue(empty))!.payload).toBe('none');
    expect((await q.dequeue(empty))!.payload).toBe('zero');
    expect(await q.dequeue(empty)).toBeUndefined();
    expect((await q.dequeue({ gpuCount: 0, vramMb: 100 }))!.payload).toBe('vram');
  });

  it('dequeues against a ledger of total capacity', async () => {
    const q = new ManagedQueue<string>({ capacity: { gpuCount: 2, vramMb: 16_000 } });
    await q.enqueue(Priority.High, 'a', { resources: GPU1 });
    await q.enqueue(Priority.High, 'b', { resources: GPU1 });
    await q.enqueue(Priority.High, 'c', { resources: GPU1 });
    const a = await q.dequeue();
    await q.dequeue();
    expect(await q.dequeue()).toBeUndefined();
    expect(q.ledger!.free()).toEqual({ gpuCount: 0, vramMb: 0 });
    await q.fail(a!.id);
    expect((await q.dequeue())!.payload).toBe('c');
  });

  it('refuses bad resources and pools, unchanged (bad input)', async () => {
    const q = new ManagedQueue<string>();
    for (const bad of [
      { gpuCount: -1, vramMb: 0 },
      { gpuCount: 1.5, vramMb: 0 },
      { gpuCount: 0, vramMb: Number.NaN },
    ]) {
      expect(await code(q.enqueue(Priority.Normal, 'x', { resources: bad }))).toBe(
        'ERR_QUEUE_INVALID_RESOURCES',
      );
    }
    await q.enqueue(Priority.Normal, 'ok');
    expect(await code(q.dequeue({ gpuCount: -1, vramMb: 0 }))).toBe('ERR_QUEUE_INVALID_RESOURCES');
    expect(q.jobCount).toBe(1);
    expect(q.queuedCount).toBe(1);
  });
});

describe('ManagedQueue lifecycle', () => {
  it('legal and illegal transitions (scenario 12)', async () => {
    const q = new ManagedQueue<number>();
    const id = await q.enqueue(Priority.Normal, 1);
    expect(await code(q.complete(id))).toBe('ERR_QUEUE_INVALID_TRANSITION');
    await q.dequeueAny();
    await q.complete(id);
    expect(q.get(id)!.state).toBe('completed');
    expect(q.get(id)!.finishedAt).toBeTypeOf('number');
    expect(await code(q.complete(id))).toBe('ERR_QUEUE_INVALID_TRANSITION');
  });

  it('cancel and fail (scenario 13)', async () => {
    const q = new ManagedQueue<number>();
    const queued = await q.enqueue(Priority.Normal, 1);
    await q.cancel(queued);
    expect(q.get(queued)!.state).toBe('cancelled');
    expect(q.queuedCount).toBe(0);
    const running = await q.enqueue(Priority.Normal, 2);
    const job = await q.dequeueAny();
    await q.cancel(running);
    expect(q.get(running)!.state).toBe('cancelled');
    expect(q.runningCount).toBe(0);
    expect(job!.signal!.aborted).toBe(true);
    expect(job!.signal!.reason).toMatchObject({ code: 'ERR_ABORTED' });
    const failing = await q.enqueue(Priority.Normal, 3);
    const f = await q.dequeueAny();
    await q.fail(failing);
    expect(q.get(failing)!.state).toBe('failed');
    expect(q.runningCount).toBe(0);
    expect(f!.signal!.aborted).toBe(false);
  });

  it('unknown ids (scenario 22)', async () => {
    const q = new ManagedQueue<number>();
    for (const op of [q.complete('nope'), q.fail('nope'), q.cancel('nope')]) {
      expect(await code(op)).toBe('ERR_QUEUE_JOB_NOT_FOUND');
    }
    expect(q.get('nope')).toBeUndefined();
  });

  it('terminal jobs refuse cancel; completing a cancelled job throws (scenario 23)', async () => {
    const q = new ManagedQueue<number>();
    const id = await q.enqueue(Priority.Normal, 1);
    await q.dequeueAny();
    await q.cancel(id);
    expect(await code(q.cancel(id))).toBe('ERR_QUEUE_INVALID_TRANSITION');
    expect(await code(q.complete(id))).toBe('ERR_QUEUE_INVALID_TRANSITION');
    const done = await q.enqueue(Priority.Normal, 2);
    await q.dequeueAny();
    await q.complete(done);
    expect(await code(q.cancel(done))).toBe('ERR_QUEUE_INVALID_TRANSITION');
  });

  it('invalid priority is rejected, state unchanged (scenario 21)', async () => {
    const q = new ManagedQueue<number>();
    expect(await code(q.enqueue(7 as Priority, 1))).toBe('ERR_QUEUE_INVALID_PRIORITY');
    expect(await code(q.enqueue(Number.NaN as Priority, 1))).toBe('ERR_QUEUE_INVALID_PRIORITY');
    expect(q.jobCount).toBe(0);
  });

  it('maxQueued refuses with ERR_QUEUE_FULL', async () => {
    const q = new ManagedQueue<number>({ maxQueued: 2 });
    await q.enqueue(Priority.Normal, 1);
    await q.enqueue(Priority.Normal, 2);
    expect(await code(q.enqueue(Priority.Normal, 3))).toBe('ERR_QUEUE_FULL');
    expect(q.jobCount).toBe(2);
    await q.dequeueAny();
    await q.enqueue(Priority.Normal, 3);
  });

  it('returns copies', async () => {
    const q = new ManagedQueue<number>();
    const id = await q.enqueue(Priority.Normal, 1);
    const copy = q.get(id) as { state: string };
    copy.state = 'completed';
    expect(q.get(id)!.state).toBe('queued');
    expect(q.counts()).toEqual({ queued: 1, running: 0, completed: 0, failed: 0, cancelled: 0 });
    expect(q.list({ limit: 0 })).toEqual([]);
  });

  it('validates options', () => {
    expect(() => new ManagedQueue({ maxConcurrency: -1 })).toThrow(/maxConcurrency/);
    expect(() => new ManagedQueue({ finishedTtlMs: Number.NaN })).toThrow(/finishedTtlMs/);
    expect(() => new ManagedQueue({ maxQueued: 0 })).toThrow(/maxQueued/);
    expect(() => new ManagedQueue({ name: '' })).toThrow(/name/);
    expect(() => new ManagedQueue({ autoEvictIntervalMs: 0 })).toThrow(/autoEvictIntervalMs/);
  });
});

describe('ManagedQueue TTL', () => {
  it('evicts finished jobs at >= TTL, never queued or running (scenario 14, 29)', async () => {
    const clock = new ManualClock();
    const q = new ManagedQueue<number>({ finishedTtlMs: 10, clock });
    const done = await q.enqueue(Priority.Normal, 1);
    await q.enqueue(Priority.Normal, 2);
    await q.enqueue(Priority.Low, 3);
    await q.dequeueAny();
    await q.complete(done);
    await q.dequeueAny();
    clock.advance(9);
    expect(await q.evictExpired()).toBe(0);
    expect(q.jobCount).toBe(3);
    clock.advance(1);
    expect(await q.evictExpired()).toBe(1);
    expect(q.jobCount).toBe(2);
    expect(q.get(done)).toBeUndefined();
    clock.advance(1_000_000);
    expect(await q.evictExpired()).toBe(0);
    expect(q.counts()).toMatchObject({ queued: 1, running: 1 });
  });

  it('auto-evicts on an unref’d clock timer and stops on close', async () => {
    const clock = new ManualClock();
    const q = new ManagedQueue<number>({ finishedTtlMs: 5, autoEvictIntervalMs: 10, clock });
    const id = await q.enqueue(Priority.Normal, 1);
    await q.dequeueAny();
    await q.complete(id);
    expect(clock.pendingTimers).toBe(1);
    await clock.advanceAsync(10);
    expect(q.jobCount).toBe(0);
    expect(clock.pendingTimers).toBe(1);
    await q.close();
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('ManagedQueue events and metrics', () => {
  it('full lifecycle emits exactly 4 events (scenario 15)', async () => {
    const q = new ManagedQueue<number>();
    const seen: QueueEvent[] = [];
    const stop = q.onEvent((e) => seen.push(e));
    const stream = q.events();
    const id = await q.enqueue(Priority.High, 1);
    await q.dequeueAny();
    await q.complete(id);
    expect(seen.map((e) => e.type)).toEqual([
      'enqueued',
      'dequeued',
      'stateChanged',
      'stateChanged',
    ]);
    expect(seen[3]).toEqual({ type: 'stateChanged', id, from: 'running', to: 'completed' });
    const fromStream: QueueEvent[] = [];
    for (let i = 0; i < 4; i++) fromStream.push((await stream.next()).value as QueueEvent);
    expect(fromStream).toEqual(seen);
    stop();
    await stream.return?.();
    const q2 = new ManagedQueue<number>();
    const events: QueueEvent[] = [];
    q2.onEvent((e) => events.push(e));
    await q2.cancel(await q2.enqueue(Priority.Low, 1));
    expect(events.map((e) => e.type)).toEqual(['enqueued', 'stateChanged']);
  });

  it('a lagging stream keeps the newest 256 and reports 44 lost (scenario 28)', async () => {
    const q = new ManagedQueue<number>();
    const stream = q.events();
    for (let i = 0; i < 300; i++) await q.enqueue(Priority.Normal, i);
    expect(stream.lagged).toBe(44);
    expect(stream.buffered).toBe(256);
    const first = (await stream.next()).value as QueueEvent;
    expect(first.type).toBe('enqueued');
    expect(q.get(first.id)!.payload).toBe(44);
    const silent = new ManagedQueue<number>();
    await silent.enqueue(Priority.Normal, 1); // nobody subscribed: nothing throws
  });

  it('listeners can re-enter the queue; a throwing listener goes to onError', async () => {
    const errors: Error[] = [];
    const q = new ManagedQueue<number>({ onError: (e) => errors.push(e) });
    q.onEvent((e) => {
      if (e.type === 'enqueued' && q.get(e.id)!.payload === 1) void q.dequeueAny();
    });
    q.onEvent(() => {
      throw new Error('listener boom');
    });
    await q.enqueue(Priority.Normal, 1);
    expect(q.runningCount).toBe(1);
    expect(errors.length).toBeGreaterThan(0);
  });

  it('streams end on close, on abort and on break', async () => {
    const q = new ManagedQueue<number>();
    const controller = new AbortController();
    const aborted = q.events({ signal: controller.signal });
    const closing = q.events();
    const pending = closing.next();
    controller.abort();
    expect((await aborted.next()).done).toBe(true);
    await q.close();
    expect((await pending).done).toBe(true);
    expect(() => q.events()).toThrow(/closed/);
  });

  it('caps subscribers', () => {
    const q = new ManagedQueue<number>({ maxSubscribers: 2 });
    q.events();
    q.onEvent(() => undefined);
    expect(() => q.events()).toThrow(
      expect.objectContaining({ code: 'ERR_CAPACITY_EXCEEDED' }) as Error,
    );
  });

  it('reports every transition, depth and running (scenario 16)', async () => {
    const metrics = new MemoryMetricsSink();
    const q = new ManagedQueue<number>({ metrics, name: 'jobs' });
    const sum = (name: string): number =>
      [...metrics.counters].filter(([k]) => k.startsWith(name)).reduce((a, [, v]) => a + v, 0);
    const id = await q.enqueue(Priority.High, 1);
    expect(metrics.counter('majra_queue_enqueued_total', { queue: 'jobs', priority: 'high' })).toBe(
      1,
    );
    expect(metrics.gauge('majra_queue_depth', { queue: 'jobs' })).toBe(1);
    await q.dequeueAny();
    expect(sum('majra_queue_dequeued_total')).toBe(1);
    expect(sum('majra_queue_state_transitions_total')).toBe(1);
    expect(metrics.gauge('majra_queue_running', { queue: 'jobs' })).toBe(1);
    await q.complete(id);
    expect(sum('majra_queue_state_transitions_total')).toBe(2);
    expect(
      metrics.counter('majra_queue_state_transitions_total', {
        queue: 'jobs',
        from: 'running',
        to: 'completed',
      }),
    ).toBe(1);
    expect(metrics.gauge('majra_queue_running', { queue: 'jobs' })).toBe(0);
  });
});

describe('ManagedQueue dequeueWait', () => {
  it('is woken by an enqueue', async () => {
    const q = new ManagedQueue<number>();
    const waiting = q.dequeueWait();
    await q.enqueue(Priority.Normal, 5);
    expect((await waiting).payload).toBe(5);
  });

  it('is woken by a complete that frees a slot (scenario 27)', async () => {
    const q = new ManagedQueue<number>({ maxConcurrency: 1 });
    const first = await q.enqueue(Priority.Normal, 1);
    await q.enqueue(Priority.Normal, 2);
    await q.dequeueAny();
    const waiting = q.dequeueWait();
    await new Promise((r) => setImmediate(r));
    await q.complete(first);
    expect((await waiting).payload).toBe(2);
  });

  it('rejects on abort and consumes nothing (scenario 27)', async () => {
    const q = new ManagedQueue<number>();
    const controller = new AbortController();
    const aborted = q.dequeueWait(undefined, { signal: controller.signal });
    const other = q.dequeueWait();
    await new Promise((r) => setImmediate(r));
    controller.abort();
    expect(await code(aborted)).toBe('ERR_ABORTED');
    await q.enqueue(Priority.Normal, 9);
    expect((await other).payload).toBe(9);
    expect(q.runningCount).toBe(1);
  });

  it('waits for a job that fits its pool; waiters are served in arrival order', async () => {
    const q = new ManagedQueue<string>();
    const small = q.dequeueWait(GPU1);
    const any1 = q.dequeueWait();
    const any2 = q.dequeueWait();
    await new Promise((r) => setImmediate(r));
    await q.enqueue(Priority.Normal, 'big', { resources: GPU4 });
    await q.enqueue(Priority.Normal, 'free');
    expect((await any1).payload).toBe('big');
    expect((await small).payload).toBe('free');
    await q.enqueue(Priority.Normal, 'last');
    expect((await any2).payload).toBe('last');
  });

  it('close rejects waiters and later operations', async () => {
    const q = new ManagedQueue<number>();
    const waiting = q.dequeueWait();
    await new Promise((r) => setImmediate(r));
    await q.close();
    expect(await code(waiting)).toBe('ERR_CLOSED');
    expect(await code(q.enqueue(Priority.Normal, 1))).toBe('ERR_CLOSED');
    expect(await code(q.dequeueWait())).toBe('ERR_CLOSED');
    await q[Symbol.asyncDispose]();
    expect(q.isClosed).toBe(true);
  });
});

describe('ManagedQueue integration scenario (18)', () => {
  it('GPU and CPU jobs with maxConcurrency 2', async () => {
    const q = new ManagedQueue<string>({ maxConcurrency: 2 });
    const events: QueueEvent[] = [];
    q.onEvent((e) => events.push(e));
    const gpu = await q.enqueue(Priority.High, 'gpu', { resources: GPU1 });
    const cpu = await q.enqueue(Priority.Normal, 'cpu');
    expect((await q.dequeue({ gpuCount: 1, vramMb: 16_000 }))!.id).toBe(gpu);
    expect((await q.dequeueAny())!.id).toBe(cpu);
    await q.complete(gpu);
    await q.fail(cpu);
    expect(events).toHaveLength(8);
  });
});
