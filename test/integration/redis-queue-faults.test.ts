// RedisQueue under faults: the server down at start, SCRIPT FLUSH, connections killed
// while enqueuing and dequeuing, and a consumer process killed while holding jobs.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { connectRedisQueue } from '../../src/backends/redis/index.js';
import { isMajraError } from '../../src/core/errors.js';
import { redisScope } from '../support/redis.js';
import { queueHelpers } from '../support/redis-queue.js';
import { redisUrl } from '../support/services.js';

const scope = redisScope('redis_queue_faults');
afterAll(() => scope.cleanup());
const { makeQueue, nextName } = queueHelpers(scope);

describe('RedisQueue faults', () => {
  it('rejects with ERR_REDIS_UNREACHABLE when the server is down at start', async () => {
    await expect(connectRedisQueue('redis://127.0.0.1:1', 'q')).rejects.toMatchObject({
      code: 'ERR_REDIS_UNREACHABLE',
    });
  });

  it('survives SCRIPT FLUSH (NOSCRIPT fallback)', async () => {
    const queue = await makeQueue<number>();
    await scope.client().script('FLUSH');
    await queue.enqueue(1);
    expect((await queue.dequeue())?.payload).toBe(1);
    await queue.close();
  });

  it('loses no acknowledged enqueue while its connection is killed (CLIENT KILL)', async () => {
    const victimName = `victim-${nextName()}`;
    const client = new Redis(redisUrl(), { connectionName: victimName });
    client.on('error', () => undefined);
    const admin = scope.client();
    const queue = await makeQueue<number>({}, client);
    const killVictim = async (): Promise<number> => {
      let killed = 0;
      for (const line of String(await admin.client('LIST')).split('\n')) {
        const match = /^id=(\d+) .* name=(\S*)/.exec(line);
        if (match?.[2] === victimName && match[1] !== undefined) {
          killed += Number(await admin.client('KILL', 'ID', match[1]).catch(() => 0));
        }
      }
      return killed;
    };
    const acknowledged: string[] = [];
    let failed = 0;
    const writes: Promise<unknown>[] = [];
    let kills = 0;
    for (let wave = 0; wave < 40; wave++) {
      for (let i = 0; i < 50; i++) {
        writes.push(
          queue.enqueue(wave * 50 + i).then(
            (jobId) => acknowledged.push(jobId),
            () => failed++,
          ),
        );
      }
      if (wave % 5 === 2) kills += await killVictim();
      else await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(writes);
    expect(kills).toBeGreaterThan(0);
    expect(acknowledged.length + failed).toBe(2000);
    expect(acknowledged.length).toBeGreaterThan(0);
    // Every acknowledged job is stored (read the job hash directly: fast and exact).
    const stored = new Set(await admin.hkeys(`${queue.key}:data`));
    for (const jobId of acknowledged) expect(stored.has(jobId)).toBe(true);
    expect(await admin.zcard(`${queue.key}:ready`)).toBe(stored.size);
    await queue.close();
    client.disconnect();
  });

  it('processes every job while the consumer connection is killed repeatedly', async () => {
    const name = nextName();
    const producer = await connectRedisQueue<number>(scope.client(), name, {
      prefix: scope.prefix,
    });
    // Named, so the kills below hit this test's consumer only (never other clients of the server).
    const consumerName = `${scope.prefix.replaceAll(':', '-')}consumer-${name}`;
    const consumerClient = scope.client(consumerName);
    const consumer = await connectRedisQueue<number>(consumerClient, name, {
      prefix: scope.prefix,
      visibilityTimeoutMs: 300,
      maxAttempts: 100,
      onError: () => undefined,
    });
    const admin = scope.client();
    await Promise.all(Array.from({ length: 500 }, (_, i) => producer.enqueue(i)));
    const done = new Set<number>();
    let kills = 0;
    const stop = new AbortController();
    const worker = (async () => {
      while (done.size < 500) {
        try {
          const job = await consumer.dequeueWait({ signal: stop.signal });
          if (await consumer.ack(job)) done.add(job.payload);
          if (done.size % 100 === 50 && kills < 4) {
            kills++;
            const list = await admin.client('LIST');
            for (const line of String(list).split('\n')) {
              const match = /^id=(\d+) .* name=(\S*)/.exec(line);
              if (match?.[1] !== undefined && match[2] === consumerName)
                await admin.client('KILL', 'ID', match[1]).catch(() => 0);
            }
          }
        } catch (error) {
          if (stop.signal.aborted) return;
          if (!isMajraError(error)) throw error;
        }
      }
    })();
    await worker;
    expect(done.size).toBe(500);
    stop.abort();
    await Promise.all([producer.close(), consumer.close()]);
  });

  it('reclaims and processes every job held by a consumer process killed with SIGKILL', async () => {
    const name = nextName();
    const producer = await connectRedisQueue<number>(scope.client(), name, {
      prefix: scope.prefix,
    });
    await Promise.all(Array.from({ length: 100 }, (_, i) => producer.enqueue(i)));
    const child = fork(
      fileURLToPath(new URL('./fixtures/redis-queue-holder.ts', import.meta.url)),
      [],
      {
        execArgv: ['--import', 'tsx'],
        env: {
          ...process.env,
          REDIS_URL: redisUrl(),
          QUEUE_PREFIX: scope.prefix,
          QUEUE_NAME: name,
          HOLD: '30',
        },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    );
    const held = await new Promise<number[]>((resolve, reject) => {
      child.once('message', (m) => resolve(m as number[]));
      child.once('exit', (code) => reject(new Error(`child exited early with ${code}`)));
    });
    expect(held).toHaveLength(30);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const consumer = await connectRedisQueue<number>(scope.client(), name, {
      prefix: scope.prefix,
      visibilityTimeoutMs: 30_000,
    });
    const processed = new Map<number, number>();
    while (processed.size < 100) {
      const job = await consumer.dequeueWait({ timeoutMs: 20_000 });
      processed.set(job.payload, job.attempt);
      expect(await consumer.ack(job)).toBe(true);
    }
    for (const payload of held) expect(processed.get(payload)).toBe(2);
    expect(await consumer.size()).toBe(0);
    await Promise.all([producer.close(), consumer.close()]);
  });
});
