import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import {
  RedisRateLimiter,
  RedisSlidingWindowLimiter,
  connectRedisRateLimiter,
  connectRedisSlidingWindowLimiter,
  type RedisRateLimiterOptions,
  type RedisSlidingWindowLimiterOptions,
} from '../../src/backends/redis/index.js';
import { MemoryMetricsSink } from '../../src/testing/memory-metrics.js';
import { redisScope } from '../support/redis.js';
import { redisUrl } from '../support/services.js';

const scope = redisScope('redis_ratelimit');
afterAll(() => scope.cleanup());
const client = scope.client();
let counter = 0;

function bucket(options: Omit<RedisRateLimiterOptions, 'prefix'>): Promise<RedisRateLimiter> {
  return connectRedisRateLimiter(client, `tb${counter++}`, { prefix: scope.prefix, ...options });
}

function windowed(
  options: Omit<RedisSlidingWindowLimiterOptions, 'prefix'>,
): Promise<RedisSlidingWindowLimiter> {
  return connectRedisSlidingWindowLimiter(client, `sw${counter++}`, {
    prefix: scope.prefix,
    ...options,
  });
}

describe('RedisRateLimiter (token bucket)', () => {
  it('admits the burst, then denies with a retry hint; keys are independent', async () => {
    const metrics = new MemoryMetricsSink();
    const limiter = await bucket({ ratePerSecond: 1, burst: 3, metrics });
    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push(await limiter.check('a'));
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false]);
    expect(decisions.map((d) => d.remaining)).toEqual([2, 1, 0, 0]);
    expect(decisions[3]?.retryAfterMs).toBeGreaterThan(0);
    expect(decisions[3]?.retryAfterMs).toBeLessThanOrEqual(1000);
    expect((await limiter.check('b')).allowed).toBe(true);
    const labels = { limiter: 'token_bucket', outcome: 'allowed' };
    expect(metrics.counter('majra_redis_ratelimit_decisions_total', labels)).toBe(4);
    await limiter.close();
  });

  it('refills at the configured rate (acquire waits for the token)', async () => {
    const limiter = await bucket({ ratePerSecond: 20, burst: 1 });
    expect((await limiter.check('k')).allowed).toBe(true);
    const denied = await limiter.check('k');
    expect(denied.allowed).toBe(false);
    expect(denied.retryAfterMs).toBeLessThanOrEqual(50);
    await limiter.acquire('k', { signal: AbortSignal.timeout(10_000) });
    expect((await limiter.check('k')).allowed).toBe(false);
    await limiter.close();
  });

  it('charges a cost and refuses costs outside (0, burst]', async () => {
    const limiter = await bucket({ ratePerSecond: 0.001, burst: 3 });
    expect(await limiter.check('c', 2)).toMatchObject({ allowed: true, remaining: 1 });
    expect((await limiter.check('c', 2)).allowed).toBe(false);
    expect(await limiter.check('c', 1)).toMatchObject({ allowed: true, remaining: 0 });
    for (const cost of [0, -1, 4, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(limiter.check('c', cost)).rejects.toMatchObject({
        code: 'ERR_RATELIMIT_INVALID_COST',
      });
    }
    await limiter.close();
  });

  it('admits exactly the burst under 50 concurrent checks', async () => {
    const limiter = await bucket({ ratePerSecond: 0.001, burst: 10 });
    const decisions = await Promise.all(Array.from({ length: 50 }, () => limiter.check('hot')));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(10);
    await limiter.close();
  });

  it('sets an expiry of one full refill plus a second', async () => {
    const limiter = await bucket({ ratePerSecond: 2, burst: 10 });
    await limiter.check('ttl');
    const ttl = await client.pttl(`${limiter.key}:ttl`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(6000);
    expect(await client.strlen(`${limiter.key}:ttl`)).toBe(16); // packed tokens + time
    await limiter.reset('ttl');
    expect(await client.exists(`${limiter.key}:ttl`)).toBe(0);
    // A value majra did not write is a fresh bucket, overwritten.
    await client.set(`${limiter.key}:junk`, 'not a bucket');
    expect(await limiter.check('junk')).toMatchObject({ allowed: true, remaining: 9 });
    expect(await client.strlen(`${limiter.key}:junk`)).toBe(16);
    await limiter.close();
  });

  it('validates options and keys', async () => {
    for (const rate of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new RedisRateLimiter(client, 'x', { ratePerSecond: rate, burst: 1 })).toThrow(
        /ratePerSecond/,
      );
    }
    for (const burst of [0, 1.5, -1]) {
      expect(() => new RedisRateLimiter(client, 'x', { ratePerSecond: 1, burst })).toThrow(/burst/);
    }
    const limiter = await bucket({ ratePerSecond: 1, burst: 1 });
    await expect(limiter.check('')).rejects.toMatchObject({ code: 'ERR_RATELIMIT_INVALID_KEY' });
    await expect(limiter.check('k'.repeat(1025))).rejects.toMatchObject({
      code: 'ERR_RATELIMIT_INVALID_KEY',
    });
    await limiter.close();
    await expect(limiter.check('k')).rejects.toMatchObject({ code: 'ERR_CLOSED' });
  });

  it('stores nasty and 1024-character keys literally, each independent, touching nothing else', async () => {
    const sentinel = `${scope.prefix}sentinel`;
    await client.set(sentinel, 'kept');
    const limiter = await bucket({ ratePerSecond: 0.001, burst: 1 });
    const keys = [
      'a b',
      '*',
      '?',
      '[a-z]',
      '\\',
      '"',
      "'",
      'line\nbreak',
      '"; FLUSHALL',
      '\r\n*1\r\n$8\r\nFLUSHALL\r\n',
      'k'.repeat(1024),
    ];
    for (const key of keys) expect((await limiter.check(key)).allowed).toBe(true);
    for (const key of keys) expect((await limiter.check(key)).allowed).toBe(false);
    for (const key of keys) expect(await client.exists(`${limiter.key}:${key}`)).toBe(1);
    expect(await client.get(sentinel)).toBe('kept');
    await limiter.close();
  });

  it('survives SCRIPT FLUSH and aborts acquire', async () => {
    const limiter = await bucket({ ratePerSecond: 0.001, burst: 1 });
    await client.script('FLUSH');
    expect((await limiter.check('f')).allowed).toBe(true);
    const controller = new AbortController();
    const waiting = limiter.acquire('f', { signal: controller.signal });
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    await limiter.close();
  });

  it('rejects with ERR_REDIS_UNREACHABLE when the server is down', async () => {
    await expect(
      connectRedisRateLimiter('redis://127.0.0.1:1', 'x', { ratePerSecond: 1, burst: 1 }),
    ).rejects.toMatchObject({
      code: 'ERR_REDIS_UNREACHABLE',
    });
  });

  it('acquire ends on its signal while the check waits for an unreachable server', async () => {
    const down = new Redis('redis://127.0.0.1:1', { lazyConnect: true, retryStrategy: () => 50 });
    down.on('error', () => undefined);
    const limiter = new RedisRateLimiter(down, 'down', { ratePerSecond: 1, burst: 1 });
    const controller = new AbortController();
    const waiting = limiter.acquire('k', { signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 200)); // the check is queued
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    await limiter.close();
    down.disconnect();
  });

  it('two processes sharing one limiter never admit more than the rate over 10 s', async () => {
    const rate = 50;
    const burst = 10;
    const durationMs = 10_000;
    const fixture = fileURLToPath(new URL('./fixtures/redis-limiter-hammer.ts', import.meta.url));
    const started = Date.now();
    const results = await Promise.all(
      [0, 1].map(
        () =>
          new Promise<{ allowed: number; denied: number }>((resolve, reject) => {
            const child = fork(fixture, [], {
              execArgv: ['--import', 'tsx'],
              env: {
                ...process.env,
                REDIS_URL: redisUrl(),
                LIMITER_PREFIX: scope.prefix,
                RATE: String(rate),
                BURST: String(burst),
                DURATION_MS: String(durationMs),
              },
              stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
            });
            child.once('message', (m) => resolve(m as { allowed: number; denied: number }));
            child.once('exit', (code) => {
              if (code !== 0) reject(new Error(`child exited with ${code}`));
            });
          }),
      ),
    );
    const elapsedS = (Date.now() - started) / 1000;
    const allowed = results.reduce((sum, r) => sum + r.allowed, 0);
    const denied = results.reduce((sum, r) => sum + r.denied, 0);
    // Server-side admissions happen inside the parent's observation window, so this
    // bound holds whatever the scheduling: burst + rate x elapsed.
    expect(allowed).toBeLessThanOrEqual(burst + rate * elapsedS);
    expect(denied).toBeGreaterThan(allowed); // there really was contention
    expect(results.every((r) => r.allowed > 0)).toBe(true);
  });
});

describe('RedisSlidingWindowLimiter', () => {
  it('admits maxRequests per window, then denies with a retry hint', async () => {
    const limiter = await windowed({ maxRequests: 3, windowMs: 60_000 });
    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push(await limiter.check('a'));
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false]);
    expect(decisions.map((d) => d.remaining)).toEqual([2, 1, 0, 0]);
    expect(decisions[3]?.retryAfterMs).toBeGreaterThan(0);
    expect((await limiter.check('b')).allowed).toBe(true);
    await limiter.close();
  });

  it('recovers once the window has passed (acquire)', async () => {
    const limiter = await windowed({ maxRequests: 1, windowMs: 100 });
    expect((await limiter.check('k')).allowed).toBe(true);
    expect((await limiter.check('k')).allowed).toBe(false);
    await limiter.acquire('k', { signal: AbortSignal.timeout(10_000) });
    expect((await limiter.check('k')).allowed).toBe(false);
    await limiter.close();
  });

  it('admits exactly maxRequests under 40 concurrent checks and expires its key', async () => {
    const limiter = await windowed({ maxRequests: 7, windowMs: 60_000 });
    const decisions = await Promise.all(Array.from({ length: 40 }, () => limiter.check('hot', 1)));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(7);
    const ttl = await client.pttl(`${limiter.key}:hot`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(121_000);
    await limiter.close();
  });

  it('validates options and costs', async () => {
    for (const maxRequests of [0, 1.5, Number.NaN]) {
      expect(
        () => new RedisSlidingWindowLimiter(client, 'x', { maxRequests, windowMs: 10 }),
      ).toThrow(/maxRequests/);
    }
    for (const windowMs of [0, -5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(
        () => new RedisSlidingWindowLimiter(client, 'x', { maxRequests: 1, windowMs }),
      ).toThrow(/windowMs/);
    }
    const limiter = await windowed({ maxRequests: 2, windowMs: 1000 });
    await expect(limiter.check('k', 3)).rejects.toMatchObject({
      code: 'ERR_RATELIMIT_INVALID_COST',
    });
    await limiter.close();
  });
});
