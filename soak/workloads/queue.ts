// ManagedQueue with competing workers: every job must reach exactly one terminal state
// (completed, failed by injection, or cancelled while queued), the concurrency cap must
// hold, and counts() must agree with what the producer and workers observed.
import { ManagedQueue } from '../../src/queue/managed-queue.js';
import { PRIORITIES_DESCENDING } from '../../src/queue/priority.js';
import {
  describe,
  IdLedger,
  paced,
  pause,
  Window,
  yieldNow,
  type SoakContext,
  type Workload,
} from '../lib.js';

const WORKERS = 6;
const MAX_CONCURRENCY = 4;

export function startQueue(ctx: SoakContext): Workload {
  const queue = new ManagedQueue<{ n: number }>({
    name: 'soak',
    maxConcurrency: MAX_CONCURRENCY,
    finishedTtlMs: 200,
    autoEvictIntervalMs: 250,
    maxQueued: 10_000,
    onError: (error) => ctx.fail(`queue: ${describe(error)}`),
  });
  const ledger = new IdLedger();
  const window = new Window(256);
  const stop = new AbortController();
  let running = 0;
  let maxRunning = 0;
  let completed = 0;
  let failed = 0;
  let cancelled = 0;

  const settle = (n: number): void => {
    if (!ledger.settle(n)) ctx.fail(`queue: job #${n} reached a terminal state twice`);
    window.release();
  };

  const producer = paced(ctx.signal, 1500, async () => {
    await window.acquire();
    const n = ledger.issue();
    const priority = PRIORITIES_DESCENDING[n % PRIORITIES_DESCENDING.length]!;
    try {
      const id = await queue.enqueue(priority, { n });
      // Cancel a few jobs while they may still be queued.
      if (n % 50 === 7 && queue.get(id)?.state === 'queued') {
        await queue.cancel(id);
        cancelled++;
        settle(n);
      }
    } catch (error) {
      ctx.fail(`queue: enqueue failed: ${describe(error)}`);
      settle(n);
    }
  });

  const worker = async (): Promise<void> => {
    for (;;) {
      let job;
      try {
        job = await queue.dequeueWait(undefined, { signal: stop.signal });
      } catch {
        return; // stopped
      }
      running++;
      maxRunning = Math.max(maxRunning, running);
      ctx.retain(job);
      await (job.payload.n % 3 === 0 ? pause(1) : yieldNow());
      running--;
      try {
        if (job.payload.n % 20 === 3) {
          await queue.fail(job.id);
          failed++;
        } else {
          await queue.complete(job.id);
          completed++;
        }
        settle(job.payload.n);
      } catch (error) {
        ctx.fail(`queue: finishing job ${job.id} failed: ${describe(error)}`);
      }
    }
  };
  const workers = Array.from({ length: WORKERS }, worker);

  return {
    name: 'queue',
    async stop() {
      await producer;
      const failures: string[] = [];
      if (!(await window.drained(20_000))) {
        failures.push(`queue: ${window.inFlight} jobs still in flight 20 s after stop`);
      }
      stop.abort();
      await Promise.all(workers);
      const counts = queue.counts();
      if (counts.queued !== 0 || counts.running !== 0) {
        failures.push(`queue: counts() says ${counts.queued} queued, ${counts.running} running`);
      }
      if (maxRunning > MAX_CONCURRENCY) {
        failures.push(`queue: ${maxRunning} jobs ran at once (maxConcurrency ${MAX_CONCURRENCY})`);
      }
      await queue.evictExpired();
      await pause(250);
      await queue.evictExpired();
      const left = queue.list().length;
      if (left !== 0) failures.push(`queue: ${left} finished jobs not evicted after their TTL`);
      await queue.close();
      failures.push(...ledger.verify('queue jobs'));
      return {
        ops: completed + failed + cancelled,
        unit: 'jobs',
        counts: { enqueued: ledger.issued, completed, failed, cancelled, maxRunning },
        failures,
      };
    },
  };
}
