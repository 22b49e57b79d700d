// Redis backend vs its peers, on the same Redis, in the same run:
// - RedisQueue enqueue (64 in flight) vs BullMQ Queue.add (64 in flight)
// - RedisQueue producer + consumers end to end vs BullMQ Queue + Worker (concurrency 64)
// - RedisRateLimiter vs rate-limiter-flexible RateLimiterRedis (64 in flight; and one at a
//   time vs a raw PING round trip and vs its own script sent as a raw EVALSHA)
// - RedisStreamPubSub publish + consume + ack vs the same flow in raw XADD / XREADGROUP /
//   XACK, and vs RedisPubSub (PUBLISH, at-most-once)
// Every key lives under a random prefix and is deleted at the end.
// The stream rows are in redis-streams.ts, the shared helpers in redis-lib.ts.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setMaxListeners } from 'node:events';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { RedisQueue } from '../src/backends/redis/queue.js';
import { RedisRateLimiter } from '../src/backends/redis/rate-limiter.js';
import { escapeGlob } from '../src/backends/redis/keys.js';
import type { BenchOptions, BenchReport, BenchRow } from './lib.js';
import { alternate, repeat, throughput, URL_ } from './redis-lib.js';
import { streamRows } from './redis-streams.js';

async function cleanup(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${escapeGlob(prefix)}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

async function queueRows(options: BenchOptions, prefix: string): Promise<BenchRow[]> {
  const n = options.quick ? 300 : 20_000;
  const runs = options.quick ? 1 : 3;
  const connection = { host: new URL(URL_).hostname, port: Number(new URL(URL_).port || 6379) };
  const payload = { to: 'user@example.com', subject: 'hello', n: 0 };

  // --- enqueue, 64 in flight -----------------------------------------------------------
  const producer = new Redis(URL_);
  const mq = new RedisQueue(producer, 'enq', { prefix });
  await mq.ready();
  const bq = new Queue('enq', { connection, prefix: `${prefix}bull` });
  await bq.waitUntilReady();
  const majraEnq = await repeat(runs, async () => {
    await mq.clear();
    return throughput(n, 64, (i) => mq.enqueue({ ...payload, n: i }));
  });
  const bullEnq = await repeat(runs, async () => {
    await bq.obliterate({ force: true });
    return throughput(n, 64, (i) =>
      bq.add('job', { ...payload, n: i }, { removeOnComplete: true }),
    );
  });
  await mq.clear();
  await bq.obliterate({ force: true });

  // --- end to end: producer 64 in flight, consumers concurrency 64 ---------------------
  const consumerClient = new Redis(URL_);
  const e2eQueue = new RedisQueue<typeof payload>(producer, 'e2e', { prefix });
  const e2eConsumer = new RedisQueue<typeof payload>(consumerClient, 'e2e', { prefix });
  await e2eQueue.ready();
  const majraE2e = await repeat(runs, async () => {
    let done = 0;
    const stop = new AbortController();
    setMaxListeners(128, stop.signal);
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const start = performance.now();
    const lanes = Array.from({ length: 64 }, async () => {
      while (!stop.signal.aborted) {
        let job;
        try {
          job = await e2eConsumer.dequeueWait({ signal: stop.signal });
        } catch {
          return;
        }
        await e2eConsumer.ack(job);
        if (++done === n) finish();
      }
    });
    await throughput(n, 64, (i) => e2eQueue.enqueue({ ...payload, n: i }));
    await finished;
    const rate = n / ((performance.now() - start) / 1000);
    stop.abort();
    await Promise.all(lanes);
    return rate;
  });
  await e2eQueue.clear();

  const bullE2eQueue = new Queue('e2e', { connection, prefix: `${prefix}bull` });
  const bullE2e = await repeat(runs, async () => {
    let done = 0;
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const worker = new Worker(
      'e2e',
      () => {
        if (++done === n) finish();
        return Promise.resolve();
      },
      {
        connection: { ...connection, maxRetriesPerRequest: null },
        prefix: `${prefix}bull`,
        concurrency: 64,
        removeOnComplete: { count: 0 },
      },
    );
    await worker.waitUntilReady();
    const start = performance.now();
    await throughput(n, 64, (i) =>
      bullE2eQueue.add('job', { ...payload, n: i }, { removeOnComplete: true }),
    );
    await finished;
    const rate = n / ((performance.now() - start) / 1000);
    await worker.close();
    await bullE2eQueue.obliterate({ force: true });
    return rate;
  });

  await Promise.all([bq.close(), bullE2eQueue.close()]);
  await Promise.all([mq.close(), e2eQueue.close(), e2eConsumer.close()]);
  producer.disconnect();
  consumerClient.disconnect();

  return [
    {
      name: 'RedisQueue enqueue, 64 in flight',
      unit: 'jobs/s',
      majra: majraEnq.value,
      spread: majraEnq.spread,
      peer: { name: 'BullMQ Queue.add', value: bullEnq.value, spread: bullEnq.spread },
      targetRatio: 1.5,
      target: '>= 1.5x BullMQ add',
    },
    {
      name: 'RedisQueue producer + 64 consumers end to end (dequeueWait + ack)',
      unit: 'jobs/s',
      majra: majraE2e.value,
      spread: majraE2e.spread,
      peer: {
        name: 'BullMQ Queue + Worker(concurrency 64)',
        value: bullE2e.value,
        spread: bullE2e.spread,
      },
      targetRatio: 2,
      target: '>= 2x BullMQ end to end',
    },
  ];
}

/** Bytes of every key under `match` (MEMORY USAGE, exact sampling). */
async function keyBytes(redis: Redis, match: string): Promise<number> {
  let cursor = '0';
  let total = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
    cursor = next;
    const pipeline = redis.pipeline();
    for (const key of keys) pipeline.memory('USAGE', key, 'SAMPLES', '0');
    for (const [, bytes] of (await pipeline.exec()) ?? []) total += Number(bytes ?? 0);
  } while (cursor !== '0');
  return total;
}

async function memoryRows(options: BenchOptions, prefix: string): Promise<BenchRow[]> {
  const n = options.quick ? 200 : 10_000;
  const redis = new Redis(URL_);
  const connection = { host: new URL(URL_).hostname, port: Number(new URL(URL_).port || 6379) };
  const payload = { to: 'user@example.com', subject: 'hello', n: 0 };
  const queue = new RedisQueue(redis, 'mem', { prefix: `${prefix}mem:` });
  await queue.ready();
  await throughput(n, 64, (i) => queue.enqueue({ ...payload, n: i }));
  const majra = (await keyBytes(redis, `${escapeGlob(prefix)}mem:*`)) / n;
  const bull = new Queue('mem', { connection, prefix: `${prefix}bullmem` });
  await throughput(n, 64, (i) => bull.add('job', { ...payload, n: i }));
  const peer = (await keyBytes(redis, `${escapeGlob(prefix)}bullmem:*`)) / n;
  await bull.obliterate({ force: true });
  await bull.close();
  await queue.clear();
  await queue.close();
  redis.disconnect();
  return [
    {
      name: 'RedisQueue memory per waiting job (56-byte JSON payload)',
      unit: 'bytes/job',
      majra,
      peer: { name: 'BullMQ waiting job', value: peer },
      lowerIsBetter: true,
    },
  ];
}

async function rateLimitRows(options: BenchOptions, prefix: string): Promise<BenchRow[]> {
  const n = options.quick ? 300 : 30_000;
  const serial = options.quick ? 100 : 5_000;
  const runs = options.quick ? 1 : 3;
  const client = new Redis(URL_);
  const limiter = new RedisRateLimiter(client, 'bench', { prefix, ratePerSecond: 1e9, burst: 1e9 });
  await limiter.ready();
  const flexible = new RateLimiterRedis({
    storeClient: client,
    keyPrefix: `${prefix}flex`,
    points: 1e9,
    duration: 1,
  });
  const keys = Array.from({ length: 64 }, (_, i) => `user-${i}`);
  const majra64 = await repeat(runs, () =>
    throughput(n, 64, (i) => limiter.check(keys[i % 64] ?? '')),
  );
  const flex64 = await repeat(runs, () =>
    throughput(n, 64, (i) => flexible.consume(keys[i % 64] ?? '')),
  );
  // One at a time: alternated (load on a shared machine drifts), 5 rounds. `evalsha` is the
  // limiter's own script sent by hand: the floor for any script-based check.
  const script = readFileSync(
    new URL('../src/backends/redis/lua/ratelimit-token-bucket.lua', import.meta.url),
    'utf8',
  );
  const sha = String(await client.script('LOAD', script));
  const rawKey = `${limiter.key}:raw-solo`;
  const solo = await alternate(options.quick ? 1 : 5, {
    majra: () => throughput(serial, 1, () => limiter.check('solo')),
    ping: () => throughput(serial, 1, () => client.ping()),
    evalsha: () => throughput(serial, 1, () => client.evalsha(sha, 1, rawKey, 1e9, 1e9, 1)),
    flex: () => throughput(serial, 1, () => flexible.consume('solo')),
  });
  const majra1 = solo.majra;
  const ping1 = solo.ping;
  const flex1 = solo.flex;
  await limiter.close();
  client.disconnect();
  return [
    {
      name: 'RedisRateLimiter check, 64 in flight',
      unit: 'checks/s',
      majra: majra64.value,
      spread: majra64.spread,
      peer: {
        name: 'rate-limiter-flexible RateLimiterRedis',
        value: flex64.value,
        spread: flex64.spread,
      },
      targetRatio: 1.2,
      target: '>= 1.2x RateLimiterRedis',
    },
    {
      name: 'RedisRateLimiter check, one at a time',
      unit: 'checks/s',
      majra: majra1.value,
      spread: majra1.spread,
      peer: { name: 'raw PING round trip', value: ping1.value, spread: ping1.spread },
      targetRatio: 1 / 1.1,
      target: 'within 1.1x of a raw PING',
    },
    {
      name: 'RedisRateLimiter check, one at a time (vs its script as a raw EVALSHA)',
      unit: 'checks/s',
      majra: majra1.value,
      spread: majra1.spread,
      peer: {
        name: 'raw EVALSHA of the same script',
        value: solo.evalsha.value,
        spread: solo.evalsha.spread,
      },
    },
    {
      name: 'RedisRateLimiter check, one at a time (vs peer)',
      unit: 'checks/s',
      majra: majra1.value,
      spread: majra1.spread,
      peer: {
        name: 'rate-limiter-flexible RateLimiterRedis',
        value: flex1.value,
        spread: flex1.spread,
      },
    },
  ];
}

export async function run(options: BenchOptions): Promise<BenchReport> {
  const prefix = `majra-bench:${randomBytes(4).toString('hex')}:`;
  const admin = new Redis(URL_);
  try {
    const rows = [
      ...(await queueRows(options, prefix)),
      ...(await memoryRows(options, prefix)),
      ...(await rateLimitRows(options, prefix)),
      ...(await streamRows(options, prefix)),
    ];
    return {
      area: 'redis',
      rows,
      notes: [
        'Same Redis (127.0.0.1), same process, peers interleaved with majra; medians of 3 runs.',
        'RedisQueue coalesces concurrent calls into one script call per event-loop turn (group commit).',
        'One-at-a-time limiter rows alternate majra, PING, raw EVALSHA and the peer over 5 rounds.',
        'Stream rows: 20 000 messages per run, publisher and subscriber on separate connections, runs alternated.',
      ],
    };
  } finally {
    await cleanup(admin, prefix);
    admin.disconnect();
  }
}
