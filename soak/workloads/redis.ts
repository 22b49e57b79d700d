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
async function connect(ctx: SoakContext): Promise<Redis> {
  const client = new Redis(ctx.redisUrl, { lazyConnect: true, connectTimeout: 5000 });
  let connected = false;
  client.on('error', (error: Error) => {
    if (connected) ctx.fail(`redis connection: ${describe(error)}`);
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
  const clients = [await connect(ctx), await connect(ctx)];
  const [a, b] = clients as [Redis, Redis];
  const onError = (error: Error): void => ctx.fail(`redis: ${describe(error)}`);
  const queue = await connectRedisQueue<{ n: number }>(a, 'jobs', {
    prefix,
    onError,
    maxAttempts: 5,
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
  const consumer = async (): Promise<void> => {
    while (!stopConsumers.signal.aborted) {
      let job;
      try {
        job = await queue.dequeueWait({ signal: stopConsumers.signal });
      } catch (error) {
        if (!stopConsumers.signal.aborted)
          ctx.fail(`redis queue: dequeue failed: ${describe(error)}`);
        return;
      }
      ctx.retain(job);
      try {
        if (job.payload.n % 10 === 0 && job.attempt === 1) {
          const outcome = await queue.nack(job, { error: 'injected', delayMs: 20 });
          if (outcome !== 'delayed') ctx.fail(`redis queue: nack gave ${outcome}`);
          redelivered++;
          continue;
        }
        if (!(await queue.ack(job))) ctx.fail(`redis queue: ack of ${job.id} lost its lease`);
        else if (!ledger.settle(job.payload.n))
          ctx.fail(`redis queue: job ${job.payload.n} acked twice`);
        else window.release();
      } catch (error) {
        ctx.fail(`redis queue: settling ${job.id} failed: ${describe(error)}`);
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
          limiterChecks: checks,
          limiterAdmitted: bound.admitted,
          keysDeleted: deleted,
        },
        failures,
      };
    },
  };
}
