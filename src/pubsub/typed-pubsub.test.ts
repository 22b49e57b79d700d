import { describe, expect, it } from 'vitest';
import { isMajraError } from '../core/errors.js';
import { ManualClock } from '../testing/manual-clock.js';
import { drain } from '../../test/support/drain.js';
import { TypedPubSub } from './typed-pubsub.js';
import type { TypedMessage } from './types.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isMajraError(error) ? error.code : 'not a MajraError';
  }
  return undefined;
}

describe('TypedPubSub delivery', () => {
  it('delivers to receivers and handlers, exact before wildcard, in subscription order', async () => {
    const clock = new ManualClock(1000);
    const hub = new TypedPubSub<number>({ clock });
    const order: string[] = [];
    hub.on('a/#', (p, t) => order.push(`hash:${t}:${p}`));
    hub.on('a/b', (p) => order.push(`exact:${p}`));
    hub.on('a/+', (p) => order.push(`plus:${p}`));
    const rx = hub.subscribe('a/*');
    expect(hub.publish('a/b', 7)).toBe(4);
    expect(order).toEqual(['exact:7', 'hash:a/b:7', 'plus:7']);
    await expect(rx.recv()).resolves.toEqual({ topic: 'a/b', payload: 7, timestamp: 1000 });
    expect(hub.publish('x/y', 1)).toBe(0);
    expect(hub.patternCount).toBe(4);
    expect(hub.subscriptionCount).toBe(4);
  });

  it('publish with no subscriber returns 0 and still counts', () => {
    const hub = new TypedPubSub<number>();
    expect(hub.publish('nobody/here', 1)).toBe(0);
    expect(hub.stats().published).toBe(1);
  });

  it('keeps per-subscriber FIFO over 1000 publishes', () => {
    const hub = new TypedPubSub<number>({ capacity: 1000 });
    const a = hub.subscribe('n/#');
    const b = hub.subscribe('n/x');
    for (let i = 0; i < 1000; i++) hub.publish('n/x', i);
    const expected = Array.from({ length: 1000 }, (_, i) => i);
    expect(drain<TypedMessage<number>>(a).map((m) => m.payload)).toEqual(expected);
    expect(drain<TypedMessage<number>>(b).map((m) => m.payload)).toEqual(expected);
  });

  it('filters on payload and topic; a throwing filter or handler goes to onError only', () => {
    const errors: Error[] = [];
    const hub = new TypedPubSub<number>({ onError: (e) => errors.push(e) });
    const big = hub.subscribe('v/+', { filter: (p) => p > 10 });
    const onlyB = hub.subscribe('v/+', { filter: (_p, t) => t === 'v/b' });
    hub.on('v/+', () => {
      throw new Error('handler failed');
    });
    hub.subscribe('v/+', {
      filter: () => {
        throw new Error('filter failed');
      },
    });
    const all = hub.subscribe('v/#');
    for (let i = 0; i < 20; i++) hub.publish(i % 2 === 0 ? 'v/a' : 'v/b', i);
    expect(big.pending).toBe(9);
    expect(onlyB.pending).toBe(10);
    expect(all.pending).toBe(20);
    expect(errors.map((e) => e.message)).toEqual(
      Array.from({ length: 20 }, () => ['handler failed', 'filter failed']).flat(),
    );
  });
});

describe('TypedPubSub overflow', () => {
  it('drop-oldest: the subscriber lags and sees the newest', async () => {
    const hub = new TypedPubSub<number>({ capacity: 4 });
    const lags: number[] = [];
    const rx = hub.subscribe('t', { onLag: (n) => lags.push(n) });
    const results = [1, 2, 3, 4, 5, 6].map((v) => hub.publish('t', v));
    expect(results).toEqual([1, 1, 1, 1, 1, 1]);
    expect(rx.missed).toBe(2);
    expect((await rx.recv()).payload).toBe(3);
    expect(lags).toEqual([2]);
    expect(hub.stats()).toMatchObject({ lagged: 2, dropped: 0, delivered: 6 });
    const seen: number[] = [];
    hub.publish('t', 7);
    for (const m of drain<TypedMessage<number>>(rx)) seen.push(m.payload);
    expect(seen).toEqual([4, 5, 6, 7]);
  });

  it('drop-newest: refused messages are counted and publish returns fewer', () => {
    const hub = new TypedPubSub<number>({ capacity: 2, overflow: 'drop-newest' });
    const rx = hub.subscribe('events/#');
    expect([1, 2, 3].map((v) => hub.publish('events/x', v))).toEqual([1, 1, 0]);
    expect(hub.stats()).toMatchObject({ published: 3, dropped: 1, lagged: 0 });
    expect(drain<TypedMessage<number>>(rx).map((m) => m.payload)).toEqual([1, 2]);
    expect(rx.missed).toBe(1);
  });

  it('block: sync publish refuses with nothing delivered, publishAsync waits for room', async () => {
    const hub = new TypedPubSub<number>();
    const slow = hub.subscribe('q/#', { capacity: 1, overflow: 'block' });
    const other = hub.subscribe('q/1');
    const seen: number[] = [];
    hub.on('q/1', (p) => seen.push(p));
    expect(hub.publish('q/1', 1)).toBe(3);
    expect(codeOf(() => hub.publish('q/1', 2))).toBe('ERR_PUBSUB_FULL');
    expect(other.pending).toBe(1);
    expect(seen).toEqual([1]);
    let done = false;
    const pending = hub.publishAsync('q/1', 2).then((n) => {
      done = true;
      return n;
    });
    await Promise.resolve();
    expect(done).toBe(false);
    expect((await slow.recv()).payload).toBe(1);
    await expect(pending).resolves.toBe(3);
    expect((await slow.recv()).payload).toBe(2);
    expect(seen).toEqual([1, 2]);
    // unrelated topics are not held up by the full subscriber
    hub.publish('q/1', 3);
    expect(hub.publish('elsewhere', 0)).toBe(0);
  });

  it('block: publishAsync is abortable and a closed subscriber releases it', async () => {
    const hub = new TypedPubSub<number>();
    const slow = hub.subscribe('q', { capacity: 1, overflow: 'block' });
    hub.publish('q', 1);
    const ac = new AbortController();
    const aborted = hub.publishAsync('q', 2, { signal: ac.signal });
    ac.abort();
    const error: unknown = await aborted.catch((e: unknown) => e);
    expect(isMajraError(error, 'ERR_ABORTED')).toBe(true);
    const released = hub.publishAsync('q', 3);
    slow.close();
    await expect(released).resolves.toBe(0);
  });
});

describe('TypedPubSub replay', () => {
  it('replays the last N of an exact topic to a late subscriber', () => {
    const hub = new TypedPubSub<number>({ replayCapacity: 3 });
    for (let i = 1; i <= 5; i++) hub.publish('r/x', i);
    const rx = hub.subscribe('r/x');
    expect(drain<TypedMessage<number>>(rx).map((m) => m.payload)).toEqual([3, 4, 5]);
    expect(hub.stats().published).toBe(5);
  });

  it('replays every matching topic, oldest topic first; filters apply; opt-out works', () => {
    const hub = new TypedPubSub<number>({ replayCapacity: 2 });
    hub.publish('e/a', 1);
    hub.publish('e/b', 2);
    hub.publish('e/a', 3);
    hub.publish('f/a', 4);
    const rx = hub.subscribe('e/#');
    expect(drain<TypedMessage<number>>(rx).map((m) => `${m.topic}=${m.payload}`)).toEqual([
      'e/b=2',
      'e/a=1',
      'e/a=3',
    ]);
    const odd = hub.subscribe('e/+', { filter: (p) => p % 2 === 1 });
    expect(drain<TypedMessage<number>>(odd).map((m) => m.payload)).toEqual([1, 3]);
    expect(hub.subscribe('e/#', { replay: false }).pending).toBe(0);
    const handled: string[] = [];
    hub.on('e/a', (p, t) => handled.push(`${t}=${p}`));
    expect(handled).toEqual(['e/a=1', 'e/a=3']);
    hub.clearReplay();
    expect(hub.subscribe('e/#').pending).toBe(0);
  });

  it('a replay larger than the capacity lags the subscriber', () => {
    const hub = new TypedPubSub<number>({ replayCapacity: 10, capacity: 4 });
    for (let i = 0; i < 10; i++) hub.publish('big', i);
    const rx = hub.subscribe('big');
    expect(rx.missed).toBe(6);
    expect(drain<TypedMessage<number>>(rx).map((m) => m.payload)).toEqual([6, 7, 8, 9]);
  });

  it('bounds the number of replay topics, evicting the least recently published', () => {
    const hub = new TypedPubSub<number>({ replayCapacity: 1, maxReplayTopics: 3 });
    for (let i = 0; i < 1000; i++) hub.publish(`t/${i}`, i);
    hub.publish('t/997', 42);
    hub.publish('t/1000', 1000);
    expect(hub.stats().replayTopics).toBe(3);
    const rx = hub.subscribe('t/#');
    expect(drain<TypedMessage<number>>(rx).map((m) => m.topic)).toEqual([
      't/999',
      't/997',
      't/1000',
    ]);
  });
});

describe('TypedPubSub limits and lifecycle', () => {
  it('maxSubscriptions: subscribe throws, trySubscribe returns undefined, closing frees a slot', () => {
    const hub = new TypedPubSub<number>({ maxSubscriptions: 2 });
    const a = hub.subscribe('a');
    hub.on('b', () => undefined);
    expect(codeOf(() => hub.subscribe('c'))).toBe('ERR_PUBSUB_SUBSCRIPTION_LIMIT');
    expect(codeOf(() => hub.on('a', () => undefined))).toBe('ERR_PUBSUB_SUBSCRIPTION_LIMIT');
    expect(hub.trySubscribe('c')).toBeUndefined();
    expect(codeOf(() => hub.trySubscribe('bad/#/x'))).toBe('ERR_PUBSUB_INVALID_PATTERN');
    a.close();
    expect(hub.trySubscribe('c')).toBeDefined();
    expect(hub.subscriptionCount).toBe(2);
  });

  it('unsubscribeAll: receivers drain then end, pending recv resolves then rejects', async () => {
    const hub = new TypedPubSub<number>();
    const rx = hub.subscribe('u/+');
    const handled: number[] = [];
    hub.on('u/+', (p) => handled.push(p));
    hub.publish('u/1', 1);
    expect(hub.unsubscribeAll('u/+')).toBe(2);
    expect(hub.unsubscribeAll('u/+')).toBe(0);
    expect(hub.patternCount).toBe(0);
    hub.publish('u/1', 2);
    expect(handled).toEqual([1]);
    await expect(rx.recv()).resolves.toMatchObject({ payload: 1 });
    const error: unknown = await rx.recv().catch((e: unknown) => e);
    expect(isMajraError(error, 'ERR_PUBSUB_RECEIVER_CLOSED')).toBe(true);
    const it2 = hub.subscribe('w');
    const waiting = it2.recv();
    hub.unsubscribeAll('w');
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_PUBSUB_RECEIVER_CLOSED' });
  });

  it('closing a receiver or calling the unsubscribe function removes the subscription', () => {
    const hub = new TypedPubSub<number>();
    const rx = hub.subscribe('a/#');
    const off = hub.on('a/b', () => undefined);
    expect(hub.subscriptionCount).toBe(2);
    rx.close();
    off();
    off();
    expect(hub.subscriptionCount).toBe(0);
    expect(hub.patternCount).toBe(0);
    expect(hub.cleanupDeadSubscribers()).toBe(0);
  });

  it('close: receivers drain, publish and subscribe refuse, idempotent', async () => {
    const hub = new TypedPubSub<number>();
    const rx = hub.subscribe('c');
    hub.publish('c', 1);
    await hub.close();
    await hub.close();
    expect(hub.isClosed).toBe(true);
    expect(codeOf(() => hub.publish('c', 2))).toBe('ERR_PUBSUB_CLOSED');
    expect(codeOf(() => hub.subscribe('c'))).toBe('ERR_PUBSUB_CLOSED');
    expect(codeOf(() => hub.on('c', () => undefined))).toBe('ERR_PUBSUB_CLOSED');
    await expect(hub.publishAsync('c', 2)).rejects.toMatchObject({ code: 'ERR_PUBSUB_CLOSED' });
    const seen: number[] = [];
    for await (const m of rx) seen.push(m.payload);
    expect(seen).toEqual([1]);
    await hub[Symbol.asyncDispose]();
  });
});

describe('TypedPubSub bad input', () => {
  it('rejects invalid topics and patterns with codes, leaving state unchanged', () => {
    const hub = new TypedPubSub<number>();
    const rx = hub.subscribe('ok/#');
    hub.publish('ok/1', 1);
    for (const topic of ['', 'ok/+', 'ok/#', 'a*', 'x/'.repeat(40)]) {
      expect(codeOf(() => hub.publish(topic, 2))).toBe('ERR_PUBSUB_INVALID_TOPIC');
    }
    for (const pattern of ['', 'a/#/b', 'a+', '#/x']) {
      expect(codeOf(() => hub.subscribe(pattern))).toBe('ERR_PUBSUB_INVALID_PATTERN');
      expect(codeOf(() => hub.on(pattern, () => undefined))).toBe('ERR_PUBSUB_INVALID_PATTERN');
      expect(codeOf(() => hub.unsubscribeAll(pattern))).toBe('ERR_PUBSUB_INVALID_PATTERN');
    }
    expect(rx.pending).toBe(1);
    expect(hub.stats()).toMatchObject({ published: 1, subscriptions: 1, patterns: 1 });
  });

  it('rejects bad options and arguments', () => {
    for (const capacity of [0, -1, Number.NaN, 1.5]) {
      expect(codeOf(() => new TypedPubSub({ capacity }))).toBe('ERR_INVALID_ARGUMENT');
      expect(codeOf(() => new TypedPubSub().subscribe('a', { capacity }))).toBe(
        'ERR_INVALID_ARGUMENT',
      );
    }
    const bad = (o: object): string | undefined => codeOf(() => new TypedPubSub(o));
    expect(bad({ overflow: 'sometimes' })).toBe('ERR_INVALID_ARGUMENT');
    expect(bad({ replayCapacity: -1 })).toBe('ERR_INVALID_ARGUMENT');
    expect(bad({ maxReplayTopics: 0 })).toBe('ERR_INVALID_ARGUMENT');
    expect(bad({ maxSubscriptions: 0 })).toBe('ERR_INVALID_ARGUMENT');
    expect(bad({ maxCachedTopics: -1 })).toBe('ERR_INVALID_ARGUMENT');
    expect(bad({ onError: 'log' })).toBe('ERR_INVALID_ARGUMENT');
    const hub = new TypedPubSub<number>();
    const filter = 'yes' as unknown as () => boolean;
    expect(codeOf(() => hub.subscribe('a', { filter }))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => hub.on('a', 5 as unknown as () => void))).toBe('ERR_INVALID_ARGUMENT');
    expect(hub.subscriptionCount).toBe(0);
  });
});
