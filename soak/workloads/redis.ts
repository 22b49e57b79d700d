// The Redis backend under load, on a per-run key prefix that is deleted at the end:
//  - RedisQueue: one producer, competing consumers, injected failures nacked and
//    redelivered; every job must be acknowledged exactly once and nothing dead-lettered;
//  - RedisPubSub: wildcard receivers; every message received or counted as missed unless
//    a connection gap was reported (Redis pub/sub is at-most-once), in publish order;
//  - RedisRateLimiter: two clients contending for one token bucket; admissions never
//    exceed burst + rate × elapsed (bounded by the calls' send and reply times).
import { Redis } from 'ioredis';
import { connectRedisPubSub } from '../../src/backends/redis/pubsub.js';
import { connectRedisQueue } from '../../src/backends/redis/queue.js';
import { connectRedisRateLimiter } from '../../src/backends/redis/rate-limiter.js';
import { escapeGlob } from '../../src/backends/redis/keys.js';
import { OrderedIntervals, TokenBucketBound } from '../limits.js';
import {
  describe,
  IdLedger,
  paced,
  pause,
  Window,
  type SoakContext,
  type Workload,
} from '../lib.js';

const CONSUMERS = 4;
const BUCKET = { ratePerSecond: 100, burst: 10 };

async function deletePrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${escapeGlob(prefix)}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  return deleted;
}

/** A connected client, or a clear error within 5 s (ioredis would retry forever). */
async function connect(ctx: SoakContext, onFault: () => void): Promise<Redis> {
  const client = new Redis(ctx.redisUrl, {
    lazyConnect: true,
    connectTimeout: 5000,
    connectionName: `majra-soak-${ctx.runId}`,
  });
  let connected = false;
  client.on('error', () => {
    // Connection faults are survivable (ioredis reconnects); the loss checks judge them.
    if (connected) onFault();
  });
  try {
    await client.connect();
    connected = true;
    return client;
  } catch (error) {
    client.disconnect();
    throw new Error(`redis at ${ctx.redisUrl} is unreachable: ${describe(error)}`, {
      cause: error,
    });
  }
}

export async function startRedis(ctx: SoakContext): Promise<Workload> {
  const prefix = `majra-soak:${ctx.runId}:`;
  // Faults (connection errors, background errors) are counted, not failures: the loss and
  // invariant checks below decide whether the library recovered from them.
  let faults = 0;
  const onFault = (): void => {
    faults++;
  };
  const clients = [await connect(ctx, onFault), await connect(ctx, onFault)];
  const [a, b] = clients as [Redis, Redis];
  const onError = (error: Error): void => {
    faults++;
    ctx.retain(error);
  };
  const queue = await connectRedisQueue<{ n: number }>(a, 'jobs', {
    prefix,
    onError,
    maxAttempts: 5,
    // Short leases: a job orphaned by a connection fault comes back within the drain time.
    visibilityTimeoutMs: 5000,
  });
  let gaps = 0;
  const bus = await connectRedisPubSub<{ n: number }>(b, 'events', {
    prefix,
    onError,
    onGap: () => gaps++,
  });
  const limiters = [
    await connectRedisRateLimiter(a, 'api', { prefix, ...BUCKET }),
    await connectRedisRateLimiter(b, 'api', { prefix, ...BUCKET }),
  ];

  // --- queue
  const ledger = new IdLedger();
  const window = new Window(512);
  const stopConsumers = new AbortController();
  let redelivered = 0;
  // Enqueues are not awaited one by one: calls in one turn share a script call.
  const producer = paced(ctx.signal, 800, async () => {
    await window.acquire();
    const n = ledger.issue();
    queue.enqueue({ n }, { priority: n % 3 }).catch((error: unknown) => {
      ctx.fail(`redis queue: enqueue ${n} failed: ${describe(error)}`);
      ledger.settle(n);
      window.release();
    });
  });
  // At-least-once: an ack answered `false` (lease lost) is ambiguous: after a connection
  // fault ioredis re-sends the ack, so the job may already be gone; otherwise it comes
  // back. Such jobs are settled provisionally and a later delivery is accepted once; the
  // final check that the queue is empty proves none of them was lost.
  const ambiguous = new Set<number>();
  let leaseLost = 0;
  const consumer = async (): Promise<void> => {
    while (!stopConsumers.signal.aborted) {
      let job;
      try {
        job = await queue.dequeueWait({ signal: stopConsumers.signal });
      } catch (error) {
        if (stopConsumers.signal.aborted) return;
        faults++;
        ctx.retain(error);
        await pause(50);
        continue;
      }
      ctx.retain(job);
      const n = job.payload.n;
      try {
        if (n % 10 === 0 && job.attempt === 1) {
          const outcome = await queue.nack(job, { error: 'injected', delayMs: 20 });
          if (outcome === 'lease-lost') leaseLost++;
          else if (outcome !== 'delayed') ctx.fail(`redis queue: nack gave ${outcome}`);
          redelivered++;
          continue;
        }
        const acked = await queue.ack(job);
        if (ambiguous.delete(n)) continue; // the redelivery of a provisionally settled job
        if (!acked) {
          leaseLost++;
          ambiguous.add(n);
        }
        if (!ledger.settle(n)) ctx.fail(`redis queue: job ${n} acknowledged twice`);
        else window.release();
      } catch (error) {
        faults++;
        ctx.retain(error);
      }
    }
  };
  const consumers = Array.from({ length: CONSUMERS }, consumer);

  // --- pub/sub
  const patterns = ['orders/+/created', 'orders/#'];
  const receivers = await Promise.all(patterns.map((p) => bus.subscribe(p, { capacity: 4096 })));
  const expected = [0, 0];
  const received = [0, 0];
  const outOfOrder = [0, 0];
  let published = 0;
  const drains = receivers.map(async (rx, i) => {
    let last = -1;
    for await (const message of rx) {
      received[i]!++;
      if (message.payload.n <= last) outOfOrder[i]!++;
      last = message.payload.n;
    }
  });
  // Publishes are pipelined on one connection, so they stay in order without awaiting.
  const publishing = new Window(64);
  const publisher = paced(ctx.signal, 500, async () => {
    await publishing.acquire();
    const n = published++;
    const topic = n % 2 === 0 ? `orders/eu/created` : `orders/us/shipped`;
    expected[0]! += n % 2 === 0 ? 1 : 0;
    expected[1]!++;
    bus
      .publish(topic, { n })
      .catch((error: unknown) => ctx.fail(`redis pubsub: publish failed: ${describe(error)}`))
      .finally(() => publishing.release());
  });

  // --- rate limiter
  const bound = new TokenBucketBound(BUCKET.ratePerSecond, BUCKET.burst);
  const ordered = new OrderedIntervals((start, end) => bound.admit(start, end));
  let checks = 0;
  const contender = async (i: number): Promise<void> => {
    const limiter = limiters[i % limiters.length]!;
    while (!ctx.signal.aborted) {
      const token = ordered.begin(performance.now());
      let allowed = false;
      let retryAfterMs = 10;
      try {
        const decision = await limiter.check('shared');
        allowed = decision.allowed;
        retryAfterMs = decision.retryAfterMs;
        checks++;
      } catch (error) {
        ctx.fail(`redis limiter: check failed: ${describe(error)}`);
      }
      ordered.end(token, performance.now(), allowed);
      await pause(allowed ? 2 : Math.min(retryAfterMs, 20), ctx.signal);
    }
  };
  const contenders = Array.from({ length: 4 }, (_, i) => contender(i));

  return {
    name: 'redis',
    async stop() {
      await Promise.all([producer, publisher, ...contenders]);
      const failures: string[] = [];
      if (!(await publishing.drained(10_000))) failures.push('redis pubsub: publishes pending');
      if (!(await window.drained(20_000))) {
        failures.push(`redis queue: ${window.inFlight} jobs unacknowledged 20 s after stop`);
      }
      stopConsumers.abort();
      await Promise.all(consumers);
      const stats = await queue.stats();
      if (stats.ready + stats.active + stats.delayed + stats.dead !== 0) {
        failures.push(`redis queue: stats after drain ${JSON.stringify(stats)}`);
      }
      failures.push(...ledger.verify('redis queue jobs'));
      const deadline = performance.now() + 10_000;
      while (
        received.some((r, i) => r + receivers[i]!.missed < expected[i]!) &&
        performance.now() < deadline
      ) {
        await pause(10);
      }
      receivers.forEach((rx, i) => {
        const what = `redis pubsub ${patterns[i]}`;
        if (gaps === 0 && received[i]! + rx.missed !== expected[i]) {
          failures.push(
            `${what}: received ${received[i]} + missed ${rx.missed} of ${expected[i]} without a gap`,
          );
        }
        if (outOfOrder[i]! > 0) failures.push(`${what}: ${outOfOrder[i]} out of order`);
        rx.close();
      });
      await Promise.all(drains);
      if (bound.violations > 0) {
        failures.push(
          `redis limiter: admitted more than burst + rate × elapsed ${bound.violations} times (worst +${bound.worstExcess.toFixed(3)})`,
        );
      }
      await queue.close();
      await bus.close();
      for (const limiter of limiters) await limiter.close();
      const deleted = await deletePrefix(a, prefix);
      for (const client of clients) client.disconnect();
      return {
        ops: ledger.issued + published + checks,
        unit: 'ops',
        counts: {
          jobsAcked: ledger.issued - ledger.outstanding,
          redelivered,
          published,
          received: received[0]! + received[1]!,
          gaps,
          faults,
          leaseLost,
          limiterChecks: checks,
          limiterAdmitted: bound.admitted,
          keysDeleted: deleted,
        },
        failures,
      };
    },
  };
}
