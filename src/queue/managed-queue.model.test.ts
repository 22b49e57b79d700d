// Model-based test: random sequences of enqueue, dequeue, complete, fail, cancel, evict
// and restore run against ManagedQueue (backed by a MemoryQueueStore) and against a
// tiny reference model; the two must agree after every step.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock.js';
import { ManagedQueue } from './managed-queue.js';
import { MemoryQueueStore } from './memory-queue-store.js';
import type { Priority } from './priority.js';
import type { JobState, ResourceReq } from './types.js';

interface MJob {
  id: string;
  seq: number;
  priority: Priority;
  state: JobState;
  attempts: number;
  resources: ResourceReq | undefined;
  finishedAt: number;
}

type Op =
  | { op: 'enqueue'; priority: Priority; resources: ResourceReq | undefined }
  | { op: 'dequeue'; pool: ResourceReq | undefined }
  | { op: 'complete' | 'fail' | 'cancel'; pick: number }
  | { op: 'evict'; advance: number }
  | { op: 'restore'; running: 'requeue' | 'fail' };

const resources = fc.option(
  fc.record({ gpuCount: fc.integer({ min: 0, max: 3 }), vramMb: fc.integer({ min: 0, max: 3 }) }),
  { nil: undefined },
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('enqueue' as const),
      priority: fc.constantFrom<Priority>(0, 1, 2, 3, 4),
      resources,
    }),
  },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('dequeue' as const), pool: resources }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constantFrom('complete' as const, 'fail' as const, 'cancel' as const),
      pick: fc.nat(40),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('evict' as const),
      advance: fc.constantFrom(0, 1, 5, 10),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('restore' as const),
      running: fc.constantFrom('requeue' as const, 'fail' as const),
    }),
  },
);

const fits = (pool: ResourceReq | undefined, req: ResourceReq | undefined): boolean =>
  pool === undefined ||
  req === undefined ||
  (pool.gpuCount >= req.gpuCount && pool.vramMb >= req.vramMb);

class Model {
  readonly jobs = new Map<string, MJob>();
  readonly known: string[] = [];
  seq = 0;
  constructor(
    readonly maxConcurrency: number,
    readonly ttl: number,
    readonly maxQueued: number,
  ) {}
  count(state: JobState): number {
    return [...this.jobs.values()].filter((j) => j.state === state).length;
  }
  queuedOrder(): string[] {
    return [...this.jobs.values()]
      .filter((j) => j.state === 'queued')
      .sort((a, b) => b.priority - a.priority || a.seq - b.seq)
      .map((j) => j.id);
  }
  nextFor(pool: ResourceReq | undefined): MJob | undefined {
    if (this.maxConcurrency > 0 && this.count('running') >= this.maxConcurrency) return undefined;
    return this.queuedOrder()
      .map((id) => this.jobs.get(id)!)
      .find((j) => fits(pool, j.resources));
  }
}

async function outcome<T>(
  promise: Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; code: string }> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, code: (error as { code: string }).code };
  }
}

describe('ManagedQueue vs reference model', () => {
  it('agrees after every step of random operation sequences', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 3 }),
        fc.constantFrom(0, 5, 10, 17),
        fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
        fc.array(opArb, { minLength: 1, maxLength: 60, size: 'max' }),
        async (maxConcurrency, ttl, maxQueued, ops) => {
          const clock = new ManualClock();
          const store = new MemoryQueueStore();
          const options = {
            maxConcurrency,
            finishedTtlMs: ttl,
            clock,
            ...(maxQueued === undefined ? {} : { maxQueued }),
          };
          let q = await ManagedQueue.restore<number>(store, { ...options, running: 'requeue' });
          const m = new Model(maxConcurrency, ttl, maxQueued ?? Infinity);
          for (const step of ops) {
            switch (step.op) {
              case 'enqueue': {
                const r = await outcome(
                  q.enqueue(
                    step.priority,
                    m.seq,
                    step.resources === undefined ? {} : { resources: step.resources },
                  ),
                );
                if (m.count('queued') >= m.maxQueued) {
                  expect(r).toEqual({ ok: false, code: 'ERR_QUEUE_FULL' });
                } else {
                  expect(r.ok).toBe(true);
                  const id = (r as { value: string }).value;
                  m.jobs.set(id, {
                    id,
                    seq: m.seq++,
                    priority: step.priority,
                    state: 'queued',
                    attempts: 0,
                    resources: step.resources,
                    finishedAt: 0,
                  });
                  m.known.push(id);
                }
                break;
              }
              case 'dequeue': {
                const expected = m.nextFor(step.pool);
                const got = await (step.pool === undefined ? q.dequeueAny() : q.dequeue(step.pool));
                expect(got?.id).toBe(expected?.id);
                if (expected !== undefined) {
                  expected.state = 'running';
                  expected.attempts++;
                }
                break;
              }
              case 'complete':
              case 'fail':
              case 'cancel': {
                const id =
                  m.known.length === 0
                    ? 'nope'
                    : (m.known[step.pick % (m.known.length + 1)] ?? 'nope');
                const job = m.jobs.get(id);
                const r = await outcome(q[step.op](id));
                const allowed = step.op === 'cancel' ? ['queued', 'running'] : ['running'];
                if (job === undefined)
                  expect(r).toEqual({ ok: false, code: 'ERR_QUEUE_JOB_NOT_FOUND' });
                else if (!allowed.includes(job.state)) {
                  expect(r).toEqual({ ok: false, code: 'ERR_QUEUE_INVALID_TRANSITION' });
                } else {
                  expect(r.ok).toBe(true);
                  job.state =
                    step.op === 'complete'
                      ? 'completed'
                      : step.op === 'fail'
                        ? 'failed'
                        : 'cancelled';
                  job.finishedAt = clock.monotonic();
                }
                break;
              }
              case 'evict': {
                clock.advance(step.advance);
                const expired = [...m.jobs.values()].filter(
                  (j) =>
                    ['completed', 'failed', 'cancelled'].includes(j.state) &&
                    clock.monotonic() - j.finishedAt >= ttl,
                );
                expect(await q.evictExpired()).toBe(expired.length);
                for (const j of expired) m.jobs.delete(j.id);
                break;
              }
              case 'restore': {
                await q.close();
                q = await ManagedQueue.restore<number>(store, {
                  ...options,
                  running: step.running,
                });
                for (const j of m.jobs.values()) {
                  if (j.state !== 'running') continue;
                  j.state = step.running === 'requeue' ? 'queued' : 'failed';
                  if (j.state === 'failed') j.finishedAt = clock.monotonic();
                }
                break;
              }
            }
            // Compare everything after every step.
            expect(q.jobCount).toBe(m.jobs.size);
            expect(q.queuedCount).toBe(m.count('queued'));
            expect(q.runningCount).toBe(m.count('running'));
            expect(q.list({ state: 'queued' }).map((j) => j.id)).toEqual(m.queuedOrder());
            for (const id of m.known) {
              const mj = m.jobs.get(id);
              const qj = q.get(id);
              if (mj === undefined) expect(qj).toBeUndefined();
              else
                expect([qj?.state, qj?.attempts, qj?.priority]).toEqual([
                  mj.state,
                  mj.attempts,
                  mj.priority,
                ]);
            }
            const rows = store.load();
            expect(rows.map((r) => [r.id, r.state, r.attempts])).toEqual(
              [...m.jobs.values()]
                .sort((a, b) => a.seq - b.seq)
                .map((j) => [j.id, j.state, j.attempts]),
            );
          }
          await q.close();
        },
      ),
      { numRuns: 120 },
    );
  });
});
