import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisStreamPubSub, type RedisStreamMessage } from '../../src/backends/redis/index.js';
import { isMajraError } from '../../src/core/errors.js';
import type { Receiver } from '../../src/pubsub/receiver.js';
import { redisScope } from '../support/redis.js';
import { streamHelpers, within } from '../support/redis-stream.js';
import { redisUrl } from '../support/services.js';

const scope = redisScope('redis_stream');
afterAll(() => scope.cleanup());
const client = scope.client();
const { bus, drain, pendingCount, nextName } = streamHelpers(scope, client);

describe('RedisStreamPubSub', () => {
  it('gives every group every matching message and splits a group between consumers', async () => {
    const other = scope.client();
    const name = nextName();
    const publisher = await bus<number>({}, client, name);
    const a1 = await bus<number>({}, other, name);
    const a2 = await bus<number>({}, scope.client(), name);
    const rxA1 = await a1.subscribe('jobs/+', { group: 'A', consumer: 'one' });
    const rxA2 = await a2.subscribe('jobs/+', { group: 'A', consumer: 'two' });
    const rxB = await publisher.subscribe('jobs/#', { group: 'B' });
    const ids: string[] = [];
    for (let i = 0; i < 100; i++) {
      ids.push(await publisher.publish(`jobs/${i % 5}`, i));
      await publisher.publish('other/x', -1); // matches no pattern: acknowledged and skipped
    }
    const seenA = new Map<string, RedisStreamMessage<number>>();
    const seenBy = { one: 0, two: 0 };
    const done = new AbortController();
    const consume = async (
      who: 'one' | 'two',
      hub: RedisStreamPubSub<number>,
      rx: Receiver<RedisStreamMessage<number>>,
    ) => {
      while (seenA.size < 100) {
        const signal = AbortSignal.any([done.signal, AbortSignal.timeout(20_000)]);
        const message = await rx.recv({ signal }).catch(() => undefined);
        if (message === undefined) return;
        expect(seenA.has(message.id)).toBe(false); // each message to one consumer of A
        seenA.set(message.id, message);
        seenBy[who]++;
        await hub.ack(message);
      }
      done.abort();
    };
    await Promise.all([consume('one', a1, rxA1), consume('two', a2, rxA2)]);
    expect([...seenA.keys()].sort()).toEqual([...ids].sort());
    expect(seenBy.one + seenBy.two).toBe(100);
    const seenB = await drain(publisher, rxB, 100);
    expect([...seenB.keys()]).toEqual(ids); // one consumer: stream order
    expect([...seenB.values()].map((m) => m.payload)).toEqual(ids.map((_, i) => i));
    expect(await pendingCount(publisher.streamKey, 'A')).toBe(0);
    expect(await pendingCount(publisher.streamKey, 'B')).toBe(0);
    await Promise.all([publisher.close(), a1.close(), a2.close()]);
  });

  it('delivers exactly what the in-process matcher accepts', async () => {
    const hub = await bus<number>();
    const single = await hub.subscribe('a/+/c', { group: 'single' });
    const multi = await hub.subscribe('a/#', { group: 'multi' });
    for (const topic of ['a/b/c', 'a/b/x/c', 'a', 'ab', 'a/b', 'ab/c/c', 'a//c']) {
      await hub.publish(topic, 1);
    }
    await hub.publish('a/end/c', 0);
    const topics = async (rx: Receiver<RedisStreamMessage<number>>) => {
      const out: string[] = [];
      for (;;) {
        const message = await rx.recv(within());
        await hub.ack(message);
        if (message.topic === 'a/end/c') return out;
        out.push(message.topic);
      }
    };
    expect(await topics(single)).toEqual(['a/b/c', 'a//c']);
    expect(await topics(multi)).toEqual(['a/b/c', 'a/b/x/c', 'a', 'a/b', 'a//c']);
    await hub.close();
  });

  it('resumes a group where it stopped: nothing published while away is lost', async () => {
    const name = nextName();
    const publisher = await bus<number>({}, client, name);
    let sub = await bus<number>({}, scope.client(), name);
    let rx = await sub.subscribe('t', { group: 'g', consumer: 'c' });
    for (let i = 0; i < 5; i++) await publisher.publish('t', i);
    const first = await drain(sub, rx, 5);
    await sub.close();
    for (let i = 5; i < 25; i++) await publisher.publish('t', i); // nobody connected
    sub = await bus<number>({}, scope.client(), name);
    rx = await sub.subscribe('t', { group: 'g', consumer: 'other-name' });
    const rest = await drain(sub, rx, 20);
    expect([...first.values(), ...rest.values()].map((m) => m.payload)).toEqual(
      Array.from({ length: 25 }, (_, i) => i),
    );
    expect([...rest.values()].every((m) => !m.redelivered)).toBe(true);
    await Promise.all([publisher.close(), sub.close()]);
  });

  it('redelivers what was not acknowledged to the restarted consumer, never what was', async () => {
    const name = nextName();
    let hub = await bus<string>({}, client, name);
    let rx = await hub.subscribe('x', { group: 'g', consumer: 'same' });
    for (const v of ['one', 'two', 'three']) await hub.publish('x', v);
    const one = await rx.recv(within());
    const two = await rx.recv(within());
    expect(await hub.ack(one)).toBe(1);
    expect(await hub.ack(one)).toBe(0);
    expect(two.redelivered).toBe(false);
    await hub.close(); // 'two' received, 'three' buffered: neither acknowledged
    hub = await bus<string>({}, client, name);
    rx = await hub.subscribe('x', { group: 'g', consumer: 'same' });
    const again = [await rx.recv(within()), await rx.recv(within())];
    expect(again.map((m) => [m.payload, m.redelivered])).toEqual([
      ['two', true],
      ['three', true],
    ]);
    expect(await hub.ack(again)).toBe(2);
    expect(await pendingCount(hub.streamKey, 'g')).toBe(0);
    await hub.close();
  });

  it('reclaims entries held by a consumer process killed with SIGKILL, and forgets it', async () => {
    const name = nextName();
    const hub = await bus<number>({}, client, name);
    const child = fork(
      fileURLToPath(new URL('./fixtures/redis-stream-holder.ts', import.meta.url)),
      [],
      {
        execArgv: ['--import', 'tsx'],
        env: {
          ...process.env,
          REDIS_URL: redisUrl(),
          BUS_PREFIX: scope.prefix,
          BUS_NAME: name,
          GROUP: 'workers',
          HOLD: '20',
        },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    );
    const messages: unknown[] = [];
    child.on('message', (m) => messages.push(m));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    for (let i = 0; i < 200 && messages.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(messages[0]).toBe('subscribed');
    for (let i = 0; i < 50; i++) await hub.publish('w', i);
    for (let i = 0; i < 400 && messages.length < 2; i++)
      await new Promise((r) => setTimeout(r, 50));
    const held = messages[1] as string[];
    expect(held).toHaveLength(20);
    child.kill('SIGKILL');
    await exited;
    const rx = await hub.subscribe('w', {
      group: 'workers',
      consumer: 'survivor',
      claimIdleMs: 500,
      blockMs: 200,
      consumerIdleMs: 1000,
    });
    const seen = await drain(hub, rx, 50);
    expect(seen.size).toBe(50);
    for (const id of held) expect(seen.get(id)?.redelivered).toBe(true);
    expect(await pendingCount(hub.streamKey, 'workers')).toBe(0);
    // The dead consumer holds nothing now and is deleted once idle for consumerIdleMs.
    const consumers = async () =>
      ((await client.call('XINFO', 'CONSUMERS', hub.streamKey, 'workers')) as unknown[][]).map(
        (row) => String(row[1]),
      );
    for (let i = 0; i < 100 && (await consumers()).includes('doomed-child'); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await consumers()).toEqual(['survivor']);
    await hub.close();
  });

  it('keeps the stream bounded and reports pending entries trimmed before their ack', async () => {
    const errors: Error[] = [];
    const name = nextName();
    let hub = await bus<number>({ maxLength: 200, onError: (e) => errors.push(e) }, client, name);
    const rx = await hub.subscribe('#', { group: 'slow', consumer: 'c', capacity: 10 });
    for (let i = 0; i < 10; i++) await hub.publish('n', i);
    for (let i = 0; i < 10; i++) await rx.recv(within()); // received, never acknowledged
    await hub.close();
    hub = await bus<number>({ maxLength: 200, onError: (e) => errors.push(e) }, client, name);
    for (let i = 0; i < 1000; i++) await hub.publish('n', i);
    const [, nodeMax] = await client.config('GET', 'stream-node-max-entries');
    expect(await hub.length()).toBeLessThanOrEqual(200 + Number(nodeMax));
    const back = await hub.subscribe('#', { group: 'slow', consumer: 'c' });
    await back.recv(within()); // the history read found the trimmed ones first
    const trimmed = errors.filter((e) => isMajraError(e) && e.code === 'ERR_REDIS_STREAM_TRIMMED');
    expect(trimmed.length).toBeGreaterThan(0);
    expect(trimmed.map((e) => (e as { details?: { count?: number } }).details?.count)).toEqual([
      10,
    ]);
    await hub.close();
  });

  it('pauses reads while the receiver or the unacked budget is full (bounded pending list)', async () => {
    const hub = await bus<number>();
    const rx = await hub.subscribe('p', { group: 'g', consumer: 'c', capacity: 5, maxUnacked: 5 });
    for (let i = 0; i < 50; i++) await hub.publish('p', i);
    for (let i = 0; i < 500 && rx.pending < 5; i++) await new Promise((r) => setTimeout(r, 10));
    expect(rx.pending).toBe(5);
    expect(await pendingCount(hub.streamKey, 'g')).toBe(5);
    const seen = await drain(hub, rx, 50);
    expect([...seen.values()].map((m) => m.payload)).toEqual(
      Array.from({ length: 50 }, (_, i) => i),
    );
    await hub.close();
  });

  it('stores hostile topics literally and rejects bad input with typed errors', async () => {
    const sentinel = `${scope.prefix}sentinel`;
    await client.set(sentinel, 'kept');
    const hub = await bus({ maxPayloadBytes: 1024 });
    const rx = await hub.subscribe('#', { group: 'g*[?]\\ "q"', consumer: '"; FLUSHALL' });
    const topics = ['"; FLUSHALL', '\r\n$8\r\nFLUSHALL\r\n', "lua ]] .. redis.call('x')", 'é/ /?'];
    for (const topic of topics) await hub.publish(topic, topic);
    for (const topic of topics) {
      const message = await rx.recv(within());
      expect([message.topic, message.payload]).toEqual([topic, topic]);
      await hub.ack(message);
    }
    expect(await client.get(sentinel)).toBe('kept');
    const length = await hub.length();
    const code = (promise: Promise<unknown>) =>
      promise.then(
        () => 'resolved',
        (e: unknown) => (isMajraError(e) ? e.code : String(e)),
      );
    expect(await code(hub.publish('a/+', 1))).toBe('ERR_PUBSUB_INVALID_TOPIC');
    expect(await code(hub.publish('a/#', 1))).toBe('ERR_PUBSUB_INVALID_TOPIC');
    expect(await code(hub.publish('\r\n*1\r\n', 1))).toBe('ERR_PUBSUB_INVALID_TOPIC');
    expect(await code(hub.publish('a\u0000b', 1))).toBe('ERR_PUBSUB_INVALID_TOPIC');
    expect(await code(hub.publish('x'.repeat(70_000), 1))).toBe('ERR_PUBSUB_INVALID_TOPIC');
    expect(await code(hub.publish('a', 'x'.repeat(2048)))).toBe('ERR_CODEC_TOO_LARGE');
    expect(await code(hub.publish('a', 10n))).toBe('ERR_CODEC_NOT_SERIALIZABLE');
    expect(await hub.length()).toBe(length); // nothing written
    expect(await code(hub.subscribe('a/#/b', { group: 'g2' }))).toBe('ERR_PUBSUB_INVALID_PATTERN');
    expect(await code(hub.subscribe('a', { group: 'bad\ngroup' }))).toBe(
      'ERR_REDIS_INVALID_PREFIX',
    );
    expect(await code(hub.subscribe('a', { group: '' }))).toBe('ERR_REDIS_INVALID_PREFIX');
    expect(await code(hub.subscribe('a', { group: 'x'.repeat(65_536) }))).toBe(
      'ERR_REDIS_INVALID_PREFIX',
    );
    expect(await code(hub.subscribe('a', undefined as never))).toBe('ERR_INVALID_ARGUMENT');
    expect(await code(hub.subscribe('a', { group: 'g3', from: 'end' as never }))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(await code(hub.subscribe('a', { group: 'g3', blockMs: 0 }))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(await code(hub.subscribe('#', { group: 'g*[?]\\ "q"', consumer: '"; FLUSHALL' }))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(await code(hub.ack({} as never))).toBe('ERR_INVALID_ARGUMENT');
    expect(() => new RedisStreamPubSub(client, 'x', { maxLength: 0 })).toThrow(/maxLength/);
    const limited = await bus({ maxSubscriptions: 1 });
    await limited.subscribe('a', { group: 'one' });
    expect(await code(limited.subscribe('a', { group: 'two' }))).toBe(
      'ERR_PUBSUB_SUBSCRIPTION_LIMIT',
    );
    await Promise.all([hub.close(), limited.close()]);
    expect(await code(hub.publish('a', 1))).toBe('ERR_CLOSED');
  });

  it('deletes a group with its pending entries; its subscribers elsewhere end with an error', async () => {
    const name = nextName();
    const hub = await bus<number>({}, client, name);
    const elsewhere = await bus<number>(
      { onError: () => undefined, maxSubscriptions: 1 },
      scope.client(),
      name,
    );
    const remote = await elsewhere.subscribe('d', { group: 'gone', blockMs: 100 });
    const local = await hub.subscribe('d', { group: 'gone' });
    await hub.publish('d', 1);
    expect(await hub.deleteGroup('gone')).toBe(true);
    // Each receiver drains what it got, then ends: the local one closed by deleteGroup, the
    // other process's one failed with the driver's NOGROUP.
    const outcome = async (rx: Receiver<RedisStreamMessage<number>>): Promise<string> => {
      for (;;) {
        try {
          await rx.recv(within());
        } catch (error) {
          return isMajraError(error) ? error.code : String(error);
        }
      }
    };
    expect(await outcome(local)).toBe('ERR_PUBSUB_RECEIVER_CLOSED');
    expect(await outcome(remote)).toBe('ERR_REDIS_COMMAND');
    // The ended subscription released its slot (maxSubscriptions 1) and its connection.
    await elsewhere.subscribe('d', { group: 'again', blockMs: 100 });
    expect(await hub.deleteGroup('gone')).toBe(false);
    await Promise.all([hub.close(), elsewhere.close()]);
  });
});
