import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import {
  RedisPubSub,
  connectRedisPubSub,
  type RedisPubSubGap,
  type RedisPubSubOptions,
} from '../../src/backends/redis/index.js';
import { toRedisPattern } from '../../src/backends/redis/pubsub.js';
import { isMajraError } from '../../src/core/errors.js';
import { Namespace } from '../../src/core/namespace.js';
import type { Receiver } from '../../src/pubsub/receiver.js';
import type { TypedMessage } from '../../src/pubsub/types.js';
import { redisScope } from '../support/redis.js';
import { redisUrl } from '../support/services.js';

const scope = redisScope('redis_pubsub');
afterAll(() => scope.cleanup());
const client = scope.client();
let counter = 0;

function bus<T = unknown>(options: RedisPubSubOptions = {}, redis: Redis = client) {
  return connectRedisPubSub<T>(redis, `bus${counter++}`, { prefix: scope.prefix, ...options });
}

/** Receives until `sentinel` arrives (published last), returning the topics seen before it. */
async function topicsUntil<T>(rx: Receiver<TypedMessage<T>>, sentinel: string): Promise<string[]> {
  const seen: string[] = [];
  for (;;) {
    const message = await rx.recv({ signal: AbortSignal.timeout(10_000) });
    if (message.topic === sentinel) return seen;
    seen.push(message.topic);
  }
}

describe('toRedisPattern', () => {
  it('escapes the prefix and literal levels, maps wildcards, glues a trailing #', () => {
    expect(toRedisPattern('p*[1]:', 'a/+/c')).toBe('p\\*\\[1\\]:a/*/c');
    expect(toRedisPattern('p:', 'a/#')).toBe('p:a*');
    expect(toRedisPattern('p:', '#')).toBe('p:*');
    expect(toRedisPattern('p:', 'x?/[y]/\\z/*')).toBe('p:x\\?/\\[y\\]/\\\\z/*');
  });
});

describe('RedisPubSub', () => {
  it('delivers exactly what the in-process matcher accepts', async () => {
    const hub = await bus<number>();
    const single = await hub.subscribe('a/+/c');
    const multi = await hub.subscribe('a/#');
    const star = await hub.subscribe('a/*');
    for (const topic of ['a/b/c', 'a/b/x/c', 'a', 'ab', 'a/b', 'ab/c/c', 'a//c'])
      await hub.publish(topic, 1);
    await hub.publish('a/end/c', 0);
    await hub.publish('a/end', 0);
    expect(await topicsUntil(single, 'a/end/c')).toEqual(['a/b/c', 'a//c']);
    expect(await topicsUntil(star, 'a/end')).toEqual(['a/b']);
    expect(await topicsUntil(multi, 'a/end/c')).toEqual(['a/b/c', 'a/b/x/c', 'a', 'a/b', 'a//c']);
    await hub.close();
  });

  it('treats glob characters in topics, levels and prefixes literally', async () => {
    const weird = await connectRedisPubSub<string>(client, 'n[1]*', {
      prefix: `${scope.prefix}p?\\ "q" `,
    });
    const plain = await connectRedisPubSub<string>(client, 'n11', {
      prefix: `${scope.prefix}pX\\ "q" `,
    });
    const rx = await weird.subscribe('lit/[x]/+');
    const all = await weird.subscribe('#');
    await plain.publish('lit/[x]/1', 'other prefix');
    await weird.publish('lit/x/1', 'not literal');
    await weird.publish('lit/[x]/1', 'yes');
    await weird.publish('lit/?/\\', 'odd topic');
    await weird.publish('lit/[x]/end', 'end');
    const got = await rx.recv();
    expect([got.topic, got.payload]).toEqual(['lit/[x]/1', 'yes']);
    expect((await rx.recv()).topic).toBe('lit/[x]/end');
    expect(await topicsUntil(all, 'lit/[x]/end')).toEqual(['lit/x/1', 'lit/[x]/1', 'lit/?/\\']);
    await Promise.all([weird.close(), plain.close()]);
  });

  it('resolves subscribe only after the server acknowledged it', async () => {
    const hub = await bus<{ n: number }>();
    for (let i = 0; i < 20; i++) {
      const rx = await hub.subscribe(`ack/${i}`);
      await hub.publish(`ack/${i}`, { n: i });
      expect((await rx.recv({ signal: AbortSignal.timeout(10_000) })).payload).toEqual({ n: i });
      rx.close();
    }
    await hub.close();
  });

  it('round-trips nasty and 64 KiB payloads, with the publish timestamp', async () => {
    const hub = await bus();
    const rx = await hub.subscribe('data/#');
    const values = [
      '"; FLUSHALL',
      '\r\n*1\r\n$8\r\nFLUSHALL\r\n',
      { nested: ['é', '\u0000'] },
      'x'.repeat(64 * 1024),
    ];
    for (const v of values) await hub.publish('data/x', v);
    for (const v of values) {
      const message = await rx.recv();
      expect(message.payload).toEqual(v);
      expect(message.timestamp).toBeGreaterThan(0);
    }
    await hub.close();
  });

  it('skips foreign or malformed messages, reports them, and keeps delivering', async () => {
    const errors: Error[] = [];
    const hub = await bus<number>({ onError: (e) => errors.push(e) });
    const rx = await hub.subscribe('m/+');
    await client.publish(`${hub.channelPrefix}m/1`, '{not json');
    await client.publish(`${hub.channelPrefix}m/2`, '42');
    await client.publish(`${hub.channelPrefix}m/+`, '{"t":1,"p":1}'); // invalid topic
    await hub.publish('m/ok', 7);
    const message = await rx.recv();
    expect([message.topic, message.payload]).toEqual(['m/ok', 7]);
    expect(errors.map((e) => (isMajraError(e) ? e.code : e.message))).toEqual([
      'ERR_CODEC_MALFORMED',
      'ERR_REDIS_MALFORMED_REPLY',
      'ERR_PUBSUB_INVALID_TOPIC',
    ]);
    await hub.close();
  });

  it('drops the oldest messages beyond capacity and counts them', async () => {
    const hub = await bus<number>();
    const rx = await hub.subscribe('cap', { capacity: 3 });
    for (let i = 0; i < 10; i++) await hub.publish('cap', i);
    await hub.publish('cap', 10);
    // Wait until the last one is buffered (delivery is asynchronous).
    for (let i = 0; i < 200 && rx.missed < 8; i++) await new Promise((r) => setTimeout(r, 10));
    expect(rx.missed).toBe(8);
    expect([
      (await rx.recv()).payload,
      (await rx.recv()).payload,
      (await rx.recv()).payload,
    ]).toEqual([8, 9, 10]);
    await hub.close();
  });

  it('unsubscribes when the last receiver of a pattern closes', async () => {
    const hub = await bus<number>();
    const a = await hub.subscribe('u/+');
    const b = await hub.subscribe('u/*'); // same Redis pattern
    expect(await hub.publish('u/1', 1)).toBe(1);
    a.close();
    expect(await hub.publish('u/2', 2)).toBe(1);
    expect((await b.recv()).payload).toBe(1);
    b.close();
    for (let i = 0; i < 100 && (await hub.publish('u/3', 3)) !== 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(await hub.publish('u/4', 4)).toBe(0);
    expect(hub.patterns).toEqual([]);
    await hub.close();
  });

  it('rejects bad topics, patterns, payloads and options with typed errors', async () => {
    const hub = await bus();
    await expect(hub.publish('a/+', 1)).rejects.toMatchObject({ code: 'ERR_PUBSUB_INVALID_TOPIC' });
    await expect(hub.publish('a/#', 1)).rejects.toMatchObject({ code: 'ERR_PUBSUB_INVALID_TOPIC' });
    await expect(hub.publish('a', 10n)).rejects.toMatchObject({
      code: 'ERR_CODEC_NOT_SERIALIZABLE',
    });
    await expect(hub.subscribe('a/#/b')).rejects.toMatchObject({
      code: 'ERR_PUBSUB_INVALID_PATTERN',
    });
    await expect(hub.subscribe('a*')).rejects.toMatchObject({ code: 'ERR_PUBSUB_INVALID_PATTERN' });
    await expect(hub.subscribe('a', { overflow: 'block' as never })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
    await expect(hub.subscribe('a', { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'ERR_ABORTED',
    });
    expect(() => new RedisPubSub(client, 'x', { prefix: 'bad\nprefix' })).toThrow(
      expect.objectContaining({ code: 'ERR_REDIS_INVALID_PREFIX' }),
    );
    await hub.close();
    await expect(hub.publish('a', 1)).rejects.toMatchObject({ code: 'ERR_CLOSED' });
  });

  it('close ends every receiver after it drains', async () => {
    const hub = await bus<number>();
    const rx = await hub.subscribe('z');
    await hub.publish('z', 1);
    for (let i = 0; i < 200 && rx.pending === 0; i++) await new Promise((r) => setTimeout(r, 5));
    await hub.close();
    expect((await rx.recv()).payload).toBe(1);
    await expect(rx.recv()).rejects.toMatchObject({ code: 'ERR_PUBSUB_RECEIVER_CLOSED' });
  });

  it('isolates namespaces', async () => {
    const a = await connectRedisPubSub<number>(client, 'bus', {
      prefix: scope.prefix,
      namespace: new Namespace('t1'),
    });
    const b = await connectRedisPubSub<number>(client, 'bus', {
      prefix: scope.prefix,
      namespace: new Namespace('t2'),
    });
    const rx = await a.subscribe('#');
    await b.publish('x', 1);
    await a.publish('x', 2);
    expect((await rx.recv()).payload).toBe(2);
    await Promise.all([a.close(), b.close()]);
  });

  it('a subscribe waiting on an unreachable server ends on its signal or on close()', async () => {
    const down = new Redis('redis://127.0.0.1:1', { lazyConnect: true, retryStrategy: () => 50 });
    down.on('error', () => undefined);
    const hub = new RedisPubSub(down, 'unreachable', { prefix: scope.prefix });
    const controller = new AbortController();
    const aborted = hub.subscribe('a', { signal: controller.signal }).catch((e: unknown) => e);
    const closed = hub.subscribe('b').catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 200)); // both queued for the reconnect
    controller.abort();
    const codeOf = (error: unknown) => (isMajraError(error) ? error.code : String(error));
    expect(codeOf(await aborted)).toBe('ERR_ABORTED');
    await hub.close();
    expect(codeOf(await closed)).toBe('ERR_CLOSED');
    down.disconnect();
  });

  it('reconnects, resubscribes and reports the gap after CLIENT KILL', async () => {
    const gaps: RedisPubSubGap[] = [];
    const own = new Redis(redisUrl(), { connectionName: `pubsub-owner-${counter}` });
    const hub = await bus<number>({ onGap: (gap) => gaps.push(gap) }, own);
    const rx = await hub.subscribe('k/+');
    await hub.publish('k/before', 1);
    expect((await rx.recv()).topic).toBe('k/before');
    const admin = scope.client();
    let killed = 0;
    for (const line of String(await admin.client('LIST')).split('\n')) {
      const match = /^id=(\d+) .*psub=(\d+)/.exec(line);
      if (
        match?.[1] !== undefined &&
        line.includes(`name=pubsub-owner-${counter - 1}`) &&
        match[2] !== '0'
      ) {
        killed += Number(await admin.client('KILL', 'ID', match[1]));
      }
    }
    expect(killed).toBe(1);
    for (let i = 0; i < 500 && gaps.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(gaps).toHaveLength(1);
    expect(gaps[0]?.patterns).toEqual(['k/+']);
    expect(gaps[0]?.reconnectedAt).toBeGreaterThanOrEqual(gaps[0]?.disconnectedAt ?? Infinity);
    // Resubscribed: a publish is received again (retry until the PSUBSCRIBE has landed).
    let received = false;
    for (let i = 0; i < 100 && !received; i++) {
      if ((await hub.publish('k/after', 2)) > 0) received = true;
      else await new Promise((r) => setTimeout(r, 10));
    }
    expect(received).toBe(true);
    expect((await rx.recv()).topic).toBe('k/after');
    await hub.close();
    own.disconnect();
  });
});
