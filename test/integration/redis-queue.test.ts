import { afterAll, describe, expect, it } from 'vitest';
import { RedisQueue, connectRedisQueue } from '../../src/backends/redis/index.js';
import { isMajraError } from '../../src/core/errors.js';
import { Namespace } from '../../src/core/namespace.js';
import { MemoryMetricsSink } from '../../src/testing/memory-metrics.js';
import { redisScope } from '../support/redis.js';
import { queueHelpers } from '../support/redis-queue.js';

const scope = redisScope('redis_queue');
afterAll(() => scope.cleanup());

const { makeQueue, drain, nextName } = queueHelpers(scope);

describe('RedisQueue ordering', () => {
  it('delivers higher priorities first and FIFO within a priority', async () => {
    const queue = await makeQueue<string>();
    await queue.enqueue('low-1', { priority: 0 });
    await queue.enqueue('high-1', { priority: 9 });
    await queue.enqueue('low-2', { priority: 0 });
    await queue.enqueue('mid', { priority: 5 });
    await queue.enqueue('high-2', { priority: 9 });
    // Lexicographic order would put 'b' before 'z': FIFO must win.
    await queue.enqueue('z', { priority: 1 });
    await queue.enqueue('b', { priority: 1 });
    const jobs = await drain(queue);
    expect(jobs.map((j) => j.payload)).toEqual([
      'high-1',
      'high-2',
      'mid',
      'z',
      'b',
      'low-1',
      'low-2',
    ]);
    expect(jobs.map((j) => j.priority)).toEqual([9, 9, 5, 1, 1, 0, 0]);
    await queue.close();
  });

  it('keeps identical payloads as separate jobs, and concurrent enqueues in call order', async () => {
    const queue = await makeQueue<{ same: boolean }>();
    const ids = await Promise.all(Array.from({ length: 50 }, () => queue.enqueue({ same: true })));
    expect(new Set(ids).size).toBe(50);
    expect((await queue.stats()).ready).toBe(50);
    const jobs = await drain(queue);
    expect(jobs.map((j) => j.id)).toEqual(ids);
    await queue.close();
  });

  it('is idempotent for a caller-chosen id', async () => {
    const queue = await makeQueue<number>();
    await queue.enqueue(1, { id: 'order-7' });
    await queue.enqueue(2, { id: 'order-7' });
    const jobs = await drain(queue);
    expect(jobs.map((j) => [j.id, j.payload])).toEqual([['order-7', 1]]);
    await queue.close();
  });

  it('delivers every job exactly once to two competing clients', async () => {
    const name = nextName();
    const a = await connectRedisQueue<number>(scope.client(), name, { prefix: scope.prefix });
    const b = await connectRedisQueue<number>(scope.client(), name, { prefix: scope.prefix });
    await Promise.all(Array.from({ length: 1000 }, (_, i) => a.enqueue(i)));
    const take = (q: RedisQueue<number>) =>
      Promise.all(Array.from({ length: 500 }, () => q.dequeue()));
    const [fromA, fromB] = await Promise.all([take(a), take(b)]);
    const seen = [...fromA, ...fromB].map((j) => j?.payload);
    expect(seen.filter((v) => v === undefined)).toHaveLength(0);
    expect(new Set(seen).size).toBe(1000);
    await Promise.all([a.close(), b.close()]);
  });
});

describe('RedisQueue leases', () => {
  it('ack deletes; a second ack reports the lease lost', async () => {
    const metrics = new MemoryMetricsSink();
    const queue = await makeQueue<string>({ metrics });
    await queue.enqueue('x');
    const job = await queue.dequeue();
    expect(job).toMatchObject({ payload: 'x', attempt: 1 });
    if (job === undefined) throw new Error('no job');
    expect((await queue.stats()).active).toBe(1);
    expect(await queue.ack(job)).toBe(true);
    expect(await queue.ack(job)).toBe(false);
    expect(await queue.stats()).toEqual({ ready: 0, active: 0, delayed: 0, dead: 0 });
    expect(metrics.counter('majra_redis_queue_acked_total')).toBe(1);
    expect(metrics.counter('majra_redis_queue_lease_lost_total')).toBe(1);
    await queue.close();
  });

  it('nack requeues at the original position with the attempt count, then dead-letters', async () => {
    const queue = await makeQueue<string>({ maxAttempts: 2 });
    await queue.enqueue('first');
    await queue.enqueue('second');
    const first = await queue.dequeue();
    if (first === undefined) throw new Error('no job');
    expect(await queue.nack(first, { error: new Error('boom') })).toBe('requeued');
    const again = await queue.dequeue();
    expect(again).toMatchObject({ payload: 'first', attempt: 2 });
    if (again === undefined) throw new Error('no job');
    expect(await queue.nack(again, { error: 'still broken' })).toBe('dead');
    expect(await queue.nack(again)).toBe('lease-lost');
    const dead = await queue.deadLetters();
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({
      id: first.id,
      payloadJson: '"first"',
      attempts: 2,
      error: 'still broken',
    });
    expect(await queue.retryDead([first.id, 'unknown'])).toBe(1);
    const retried = await queue.dequeue();
    expect(retried).toMatchObject({ payload: 'first', attempt: 1 });
    await queue.close();
  });

  it('nack with deadLetter skips retries; nack with delay hides the job until due', async () => {
    const queue = await makeQueue<string>();
    await queue.enqueue('poison');
    await queue.enqueue('later');
    const poison = await queue.dequeue();
    const later = await queue.dequeue();
    if (poison === undefined || later === undefined) throw new Error('no job');
    expect(await queue.nack(poison, { deadLetter: true, error: 'bad input' })).toBe('dead');
    expect(await queue.nack(later, { delayMs: 150 })).toBe('delayed');
    expect(await queue.stats()).toMatchObject({ ready: 0, delayed: 1, dead: 1 });
    expect(await queue.dequeue()).toBeUndefined();
    const due = await queue.dequeueWait({ timeoutMs: 10_000 });
    expect(due).toMatchObject({ payload: 'later', attempt: 2 });
    await queue.close();
  });

  it('reclaims a job whose lease expired and redelivers it with its attempt count', async () => {
    const metrics = new MemoryMetricsSink();
    const queue = await makeQueue<string>({ visibilityTimeoutMs: 200, metrics });
    await queue.enqueue('stalled');
    const first = await queue.dequeue();
    expect(first?.attempt).toBe(1);
    // No ack: dequeueWait sleeps until the lease expires (the claim script's hint).
    const second = await queue.dequeueWait({ timeoutMs: 10_000 });
    expect(second).toMatchObject({ id: first?.id, payload: 'stalled', attempt: 2 });
    if (first === undefined) throw new Error('no job');
    expect(await queue.ack(first)).toBe(false); // the old lease lost to the redelivery
    expect(await queue.ack(second)).toBe(true);
    expect(metrics.counter('majra_redis_queue_reclaimed_total')).toBe(1);
    await queue.close();
  });

  it('dead-letters a job whose lease expired on its last attempt', async () => {
    const queue = await makeQueue<string>({ visibilityTimeoutMs: 100, maxAttempts: 1 });
    await queue.enqueue('doomed');
    await queue.dequeue();
    await expect(queue.dequeueWait({ timeoutMs: 400 })).rejects.toMatchObject({
      code: 'ERR_TIMEOUT',
    });
    const dead = await queue.deadLetters();
    expect(dead.map((d) => d.error)).toEqual(['lease expired on attempt 1']);
    await queue.close();
  });

  it('extend keeps a long job leased', async () => {
    const queue = await makeQueue<string>({ visibilityTimeoutMs: 150 });
    await queue.enqueue('long');
    const job = await queue.dequeue();
    if (job === undefined) throw new Error('no job');
    expect(await queue.extend(job, { visibilityTimeoutMs: 60_000 })).toBe(true);
    await expect(queue.dequeueWait({ timeoutMs: 400 })).rejects.toMatchObject({
      code: 'ERR_TIMEOUT',
    });
    expect(await queue.ack(job)).toBe(true);
    await queue.close();
  });
});

describe('RedisQueue blocking dequeue', () => {
  it('wakes a blocked consumer when another client enqueues', async () => {
    const name = nextName();
    const consumer = await connectRedisQueue<string>(scope.client(), name, {
      prefix: scope.prefix,
    });
    const producer = await connectRedisQueue<string>(scope.client(), name, {
      prefix: scope.prefix,
    });
    const waits = [consumer.dequeueWait(), consumer.dequeueWait(), consumer.dequeueWait()];
    await producer.enqueue('a');
    await producer.enqueue('b');
    await producer.enqueue('c');
    const got = await Promise.all(waits);
    expect(got.map((j) => j.payload).sort()).toEqual(['a', 'b', 'c']);
    await Promise.all([consumer.close(), producer.close()]);
  });

  it('rejects on abort and timeout, and the job goes to the next waiter', async () => {
    const queue = await makeQueue<string>();
    const controller = new AbortController();
    const aborted = queue.dequeueWait({ signal: controller.signal });
    controller.abort(new Error('stop'));
    await expect(aborted).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    await expect(queue.dequeueWait({ timeoutMs: 50 })).rejects.toMatchObject({
      code: 'ERR_TIMEOUT',
    });
    const next = queue.dequeueWait();
    await queue.enqueue('for-next');
    expect((await next).payload).toBe('for-next');
    await queue.close();
  });

  it('close rejects pending waits with ERR_CLOSED and later calls too', async () => {
    const queue = await makeQueue();
    const pending = queue.dequeueWait();
    await queue.close();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    await expect(queue.enqueue(1)).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    expect(() => queue.dequeueWait()).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }));
    await queue.close(); // idempotent
    expect(queue.isClosed).toBe(true);
  });
});

describe('RedisQueue bad input and bounds', () => {
  it('refuses bad priorities, ids and payloads without writing anything', async () => {
    const queue = await makeQueue();
    for (const priority of [-1, 256, 1.5, Number.NaN, '3']) {
      await expect(queue.enqueue('x', { priority: priority as number })).rejects.toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
      });
    }
    await expect(queue.enqueue('x', { id: '' })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
    await expect(queue.enqueue(10n)).rejects.toMatchObject({ code: 'ERR_CODEC_NOT_SERIALIZABLE' });
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    await expect(queue.enqueue(cyclic)).rejects.toMatchObject({
      code: 'ERR_CODEC_NOT_SERIALIZABLE',
    });
    await expect(queue.enqueue(undefined)).rejects.toMatchObject({
      code: 'ERR_CODEC_NOT_SERIALIZABLE',
    });
    expect(await queue.size()).toBe(0);
    expect(() => new RedisQueue(scope.client(), 'x', { maxAttempts: 0 })).toThrow(/maxAttempts/);
    expect(() => new RedisQueue(scope.client(), 'x', { visibilityTimeoutMs: -5 })).toThrow(
      /visibilityTimeoutMs/,
    );
    expect(() => new RedisQueue('http://nope', 'x')).toThrow(/redis:/);
    await queue.close();
  });

  it('rejects with ERR_REDIS_QUEUE_FULL at maxJobs and accepts again after an ack', async () => {
    const queue = await makeQueue<number>({ maxJobs: 2 });
    await queue.enqueue(1);
    await queue.enqueue(2);
    await expect(queue.enqueue(3)).rejects.toMatchObject({ code: 'ERR_REDIS_QUEUE_FULL' });
    const job = await queue.dequeue();
    if (job === undefined) throw new Error('no job');
    await queue.ack(job);
    await expect(queue.enqueue(3)).resolves.toBeTypeOf('string');
    await queue.close();
  });

  it('bounds the dead-letter set', async () => {
    const queue = await makeQueue<number>({ maxDeadLetters: 3 });
    for (let i = 0; i < 10; i++) await queue.enqueue(i);
    for (let i = 0; i < 10; i++) {
      const job = await queue.dequeue();
      if (job === undefined) throw new Error('no job');
      await queue.nack(job, { deadLetter: true });
    }
    const dead = await queue.deadLetters();
    expect(dead.map((d) => d.payloadJson)).toEqual(['7', '8', '9']);
    // The evicted jobs' payloads are gone too: data + meta hold only the 3 dead ones.
    const admin = scope.client();
    expect(await admin.hlen(`${queue.key}:data`)).toBe(3);
    await queue.close();
  });

  it('leaves only the sequence counter behind once every job is acknowledged', async () => {
    const queue = await makeQueue<number>();
    await Promise.all(Array.from({ length: 200 }, (_, i) => queue.enqueue(i, { priority: i % 7 })));
    const job = await queue.dequeue();
    if (job === undefined) throw new Error('no job');
    await queue.nack(job, { error: 'retry me' });
    await drain(queue);
    const keys = (await scope.keys()).filter((k) => k.startsWith(`${queue.key}:`));
    expect(keys).toEqual([`${queue.key}:seq`]);
    await queue.close();
  });

  it('parks a payload majra did not write in the dead-letter set and reports it', async () => {
    const errors: Error[] = [];
    const queue = await makeQueue({ onError: (e) => errors.push(e) });
    const admin = scope.client();
    await queue.enqueue('ok');
    expect((await drain(queue)).map((j) => j.payload)).toEqual(['ok']);
    // Forge a ready job whose payload is not JSON.
    await admin.hset(`${queue.key}:data`, 'forged', '{not json');
    await admin.hset(`${queue.key}:meta`, 'forged', '1');
    await admin.zadd(`${queue.key}:ready`, 1, 'forged');
    expect(await queue.dequeue()).toBeUndefined();
    expect(errors.map((e) => isMajraError(e, 'ERR_CODEC_MALFORMED'))).toEqual([true]);
    expect((await queue.deadLetters()).map((d) => d.error)).toEqual(['malformed payload']);
    await queue.close();
  });
});

describe('RedisQueue keys and injection', () => {
  const nasty = [
    'a b',
    '*',
    'a?b',
    '[x]',
    'back\\slash',
    '"quoted"',
    "it's",
    '"; FLUSHALL',
    '\r\n*1\r\n$8\r\nFLUSHALL\r\n',
    'end]]--',
  ];

  it('stores nasty ids and payloads literally and touches nothing else', async () => {
    const admin = scope.client();
    const sentinel = `${scope.prefix}sentinel`;
    await admin.set(sentinel, 'still here');
    const queue = await makeQueue<string>();
    for (const s of nasty) await queue.enqueue(s, { id: `id:${s}` });
    const big = 'x'.repeat(64 * 1024);
    await queue.enqueue(big, { id: 'big' });
    const jobs = await drain(queue);
    expect(jobs.map((j) => j.id)).toEqual([...nasty.map((s) => `id:${s}`), 'big']);
    expect(jobs.map((j) => j.payload)).toEqual([...nasty, big]);
    expect(await admin.get(sentinel)).toBe('still here');
    await queue.close();
  });

  it('accepts glob characters, quotes and spaces in prefixes and names, isolated from each other', async () => {
    const client = scope.client();
    const a = await connectRedisQueue<string>(client, 'jobs [1]*', {
      prefix: `${scope.prefix}p*?[x]\\ "q" `,
    });
    const b = await connectRedisQueue<string>(client, 'jobs [1]*', { prefix: `${scope.prefix}p` });
    const c = await connectRedisQueue<string>(client, 'jobs', {
      prefix: scope.prefix,
      namespace: new Namespace('tenant a'),
    });
    await a.enqueue('from a');
    await b.enqueue('from b');
    await c.enqueue('from c');
    expect((await drain(a)).map((j) => j.payload)).toEqual(['from a']);
    expect((await drain(b)).map((j) => j.payload)).toEqual(['from b']);
    expect((await drain(c)).map((j) => j.payload)).toEqual(['from c']);
    expect(c.key).toBe(`${scope.prefix}queue:tenant a:jobs`);
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it('refuses prefixes and names with control characters or over 512 characters', () => {
    const client = scope.client();
    for (const prefix of ['a\nb', 'tab\t', 'nul\0', 'x'.repeat(513)]) {
      expect(() => new RedisQueue(client, 'q', { prefix })).toThrow(
        expect.objectContaining({ code: 'ERR_REDIS_INVALID_PREFIX' }),
      );
    }
    for (const name of ['', 'a\r\nb']) {
      expect(() => new RedisQueue(client, name, { prefix: scope.prefix })).toThrow(
        expect.objectContaining({ code: 'ERR_REDIS_INVALID_PREFIX' }),
      );
    }
  });
});
