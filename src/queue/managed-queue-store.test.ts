import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock.js';
import { MemoryMetricsSink } from '../testing/memory-metrics.js';
import { ManagedQueue } from './managed-queue.js';
import { MemoryQueueStore } from './memory-queue-store.js';
import { Priority } from './priority.js';
import type { JobTransition, QueueEvent, QueueStore, StoredJob } from './types.js';

/** Wraps the memory store; `failNext` makes the next call of that method throw. */
class FlakyStore implements QueueStore {
  readonly inner = new MemoryQueueStore();
  failNext: keyof QueueStore | undefined;
  #check(op: keyof QueueStore): void {
    if (this.failNext === op) {
      this.failNext = undefined;
      throw new Error(`disk on fire during ${op}`);
    }
  }
  insert(job: StoredJob): void {
    this.#check('insert');
    this.inner.insert(job);
  }
  transition(change: JobTransition): void {
    this.#check('transition');
    this.inner.transition(change);
  }
  load(): StoredJob[] {
    this.#check('load');
    return this.inner.load();
  }
  remove(ids: readonly string[]): void {
    this.#check('remove');
    this.inner.remove(ids);
  }
}

/** The memory store behind real asynchrony (a macrotask per call), like a network store. */
class AsyncStore implements QueueStore {
  readonly inner = new MemoryQueueStore();
  failNext = false;
  calls: string[] = [];
  async #later<R>(label: string, fn: () => R): Promise<R> {
    this.calls.push(label);
    await new Promise((r) => setImmediate(r));
    if (this.failNext) {
      this.failNext = false;
      throw new Error('connection reset');
    }
    return fn();
  }
  insert(job: StoredJob): Promise<void> {
    return this.#later(`insert ${job.seq}`, () => this.inner.insert(job));
  }
  transition(change: JobTransition): Promise<void> {
    return this.#later(`${change.from}->${change.to}`, () => this.inner.transition(change));
  }
  load(): Promise<StoredJob[]> {
    return this.#later('load', () => this.inner.load());
  }
  remove(ids: readonly string[]): Promise<void> {
    return this.#later('remove', () => this.inner.remove(ids));
  }
}

async function failure(promise: Promise<unknown>): Promise<{ code?: string; cause?: unknown }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string; cause?: unknown };
  }
  throw new Error('expected a rejection');
}

function snapshotOf(q: ManagedQueue<unknown>): unknown {
  return { counts: q.counts(), jobs: q.list().map(({ signal: _s, ...rest }) => rest) };
}

describe('ManagedQueue with a failing store', () => {
  it('rejects every operation whose write fails and leaves state unchanged', async () => {
    const store = new FlakyStore();
    const metrics = new MemoryMetricsSink();
    const clock = new ManualClock();
    const q = await ManagedQueue.restore<number>(store, {
      running: 'requeue',
      metrics,
      clock,
      finishedTtlMs: 0,
    });
    const events: QueueEvent[] = [];
    q.onEvent((e) => events.push(e));

    store.failNext = 'insert';
    const e1 = await failure(q.enqueue(Priority.Normal, 1));
    expect(e1.code).toBe('ERR_QUEUE_STORE_FAILED');
    expect((e1.cause as Error).message).toMatch(/disk on fire/);
    expect(q.jobCount).toBe(0);
    expect(events).toEqual([]);

    const a = await q.enqueue(Priority.Normal, 1);
    await q.enqueue(Priority.Normal, 2);
    let before = snapshotOf(q);
    store.failNext = 'transition';
    expect((await failure(q.dequeueAny())).code).toBe('ERR_QUEUE_STORE_FAILED');
    expect(snapshotOf(q)).toEqual(before);
    expect((await q.dequeueAny())!.id).toBe(a); // still first in its tier

    before = snapshotOf(q);
    store.failNext = 'transition';
    expect((await failure(q.complete(a))).code).toBe('ERR_QUEUE_STORE_FAILED');
    expect(snapshotOf(q)).toEqual(before);
    store.failNext = 'transition';
    expect((await failure(q.cancel(a))).code).toBe('ERR_QUEUE_STORE_FAILED');
    expect(q.get(a)!.signal!.aborted).toBe(false);
    await q.complete(a);

    store.failNext = 'remove';
    expect((await failure(q.evictExpired())).code).toBe('ERR_QUEUE_STORE_FAILED');
    expect(q.get(a)!.state).toBe('completed');
    expect(await q.evictExpired()).toBe(1);

    expect(
      metrics.counter('majra_queue_store_errors_total', { queue: 'managed', operation: 'enqueue' }),
    ).toBe(1);
    expect(
      metrics.counter('majra_queue_store_errors_total', { queue: 'managed', operation: 'dequeue' }),
    ).toBe(1);
    expect(store.inner.load().map((r) => r.state)).toEqual(['queued']);
  });

  it('refuses payloads the store cannot serialise, unchanged', async () => {
    const q = await ManagedQueue.restore<unknown>(new MemoryQueueStore(), {
      running: 'requeue',
      maxPayloadBytes: 64,
    });
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect((await failure(q.enqueue(Priority.Normal, 10n))).code).toBe(
      'ERR_CODEC_NOT_SERIALIZABLE',
    );
    expect((await failure(q.enqueue(Priority.Normal, cyclic))).code).toBe(
      'ERR_CODEC_NOT_SERIALIZABLE',
    );
    expect((await failure(q.enqueue(Priority.Normal, undefined))).code).toBe(
      'ERR_CODEC_NOT_SERIALIZABLE',
    );
    expect((await failure(q.enqueue(Priority.Normal, 'x'.repeat(100)))).code).toBe(
      'ERR_CODEC_TOO_LARGE',
    );
    expect(q.jobCount).toBe(0);
    // a memory-only queue takes any payload
    const plain = new ManagedQueue<unknown>();
    await plain.enqueue(Priority.Normal, cyclic);
    expect(plain.jobCount).toBe(1);
  });

  it('fails a restore over a corrupt row without touching the store', async () => {
    const store = new MemoryQueueStore();
    store.insert({
      id: 'ok',
      seq: 0,
      priority: 2,
      state: 'running',
      payload: '1',
      resources: undefined,
      attempts: 1,
      enqueuedAt: 0,
      startedAt: 0,
      finishedAt: undefined,
    });
    store.insert({
      id: 'bad',
      seq: 1,
      priority: 9 as 2,
      state: 'queued',
      payload: '1',
      resources: undefined,
      attempts: 0,
      enqueuedAt: 0,
      startedAt: undefined,
      finishedAt: undefined,
    });
    expect((await failure(ManagedQueue.restore(store, { running: 'fail' }))).code).toBe(
      'ERR_QUEUE_STORE_CORRUPT',
    );
    expect(store.load()[0]!.state).toBe('running');
    const flaky = new FlakyStore();
    flaky.failNext = 'load';
    expect((await failure(ManagedQueue.restore(flaky, { running: 'fail' }))).code).toBe(
      'ERR_QUEUE_STORE_FAILED',
    );
    await expect(
      ManagedQueue.restore(new MemoryQueueStore(), { running: 'maybe' as 'fail' }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });
});

describe('ManagedQueue with an asynchronous store', () => {
  it('applies each operation after its write, strictly in call order', async () => {
    const store = new AsyncStore();
    const q = await ManagedQueue.restore<number>(store, { running: 'requeue', maxConcurrency: 2 });
    store.calls = [];
    const ids = [0, 1, 2, 3].map((n) => q.enqueue(Priority.Normal, n));
    expect(q.jobCount).toBe(0); // nothing applied before the writes land
    const dequeues = [q.dequeueAny(), q.dequeueAny(), q.dequeueAny()];
    const [a, b, c] = await Promise.all(dequeues);
    const all = await Promise.all(ids);
    expect([a!.id, b!.id]).toEqual([all[0], all[1]]);
    expect(c).toBeUndefined(); // the cap is exact even with async writes
    expect(store.calls).toEqual([
      'insert 0',
      'insert 1',
      'insert 2',
      'insert 3',
      'queued->running',
      'queued->running',
    ]);
    await q.close();
  });

  it('an async write failure rejects that operation only, state unchanged', async () => {
    const store = new AsyncStore();
    const q = await ManagedQueue.restore<number>(store, { running: 'requeue' });
    const first = q.enqueue(Priority.Normal, 1);
    store.failNext = true;
    const e = await failure(first);
    expect(e.code).toBe('ERR_QUEUE_STORE_FAILED');
    const second = await q.enqueue(Priority.High, 2);
    expect(q.jobCount).toBe(1);
    const waiting = q.dequeueWait();
    expect((await waiting).id).toBe(second);
    await q.complete(second);
    expect(store.inner.load().map((r) => r.state)).toEqual(['completed']);
    await q.close();
  });
});
