// TypedPubSub when its subscriptions change: inside a handler (re-entrancy), a million
// times over (churn), through receivers; and the metrics it reports. Delivery, overflow,
// replay, limits and bad input are in typed-pubsub.test.ts.
import { describe, expect, it } from 'vitest';
import { MemoryMetricsSink } from '../testing/memory-metrics.js';
import { drain } from '../../test/support/drain.js';
import { TypedPubSub } from './typed-pubsub.js';
import type { TypedMessage } from './types.js';

describe('TypedPubSub re-entrancy', () => {
  it('a subscription made inside a handler starts with the next publish', () => {
    const hub = new TypedPubSub<number>();
    const late: number[] = [];
    let added = false;
    hub.on('r', () => {
      if (!added) {
        added = true;
        hub.on('r', (p) => late.push(p));
        hub.on('#', (p) => late.push(p * 100));
      }
    });
    expect(hub.publish('r', 1)).toBe(1);
    expect(late).toEqual([]);
    expect(hub.publish('r', 2)).toBe(3);
    expect(late).toEqual([2, 200]);
  });

  it('unsubscribing a not-yet-reached subscriber inside a handler skips it', () => {
    const hub = new TypedPubSub<number>();
    const seen: string[] = [];
    let offB: () => void = () => undefined;
    let offWild: () => void = () => undefined;
    hub.on('s', (p) => {
      seen.push(`a${p}`);
      offB();
      offWild();
    });
    offB = hub.on('s', (p) => seen.push(`b${p}`));
    const c = hub.subscribe('s');
    offWild = hub.on('+', (p) => seen.push(`w${p}`));
    expect(hub.publish('s', 1)).toBe(2);
    expect(seen).toEqual(['a1']);
    expect(c.pending).toBe(1);
    expect(hub.subscriptionCount).toBe(2);
  });

  it('a handler that closes itself, others, or publishes re-entrantly keeps counters exact', () => {
    const hub = new TypedPubSub<number>({ capacity: 16 });
    const rx = hub.subscribe('x/#');
    let off: () => void = () => undefined;
    off = hub.on('x/+', (p) => {
      if (p < 3) hub.publish('x/y', p + 1);
      if (p === 3) off();
    });
    expect(hub.publish('x/y', 1)).toBe(2);
    expect(drain<TypedMessage<number>>(rx).map((m) => m.payload)).toEqual([1, 2, 3]);
    expect(hub.stats()).toMatchObject({ published: 3, delivered: 6, subscriptions: 1 });
    hub.on('f', () => undefined, {
      filter: (p) => {
        hub.publish('x/z', p);
        return true;
      },
    });
    expect(hub.publish('f', 9)).toBe(1);
    expect(drain<TypedMessage<number>>(rx).map((m) => m.payload)).toEqual([9]);
  });
});

describe('TypedPubSub metrics', () => {
  it('reports published, delivered, dropped, lagged and subscriptions', () => {
    const metrics = new MemoryMetricsSink();
    const hub = new TypedPubSub<number>({ metrics, capacity: 1 });
    const labels = { hub: 'typed' };
    const lagging = hub.subscribe('m');
    const dropping = hub.subscribe('m', { overflow: 'drop-newest' });
    hub.on('m', () => undefined);
    expect(metrics.gauge('majra_pubsub_subscriptions', labels)).toBe(3);
    hub.publish('m', 1);
    hub.publish('m', 2);
    expect(metrics.counter('majra_pubsub_published_total', labels)).toBe(2);
    expect(metrics.counter('majra_pubsub_delivered_total', labels)).toBe(5);
    expect(metrics.counter('majra_pubsub_lagged_total', labels)).toBe(1);
    expect(metrics.counter('majra_pubsub_dropped_total', labels)).toBe(1);
    lagging.close();
    dropping.close();
    expect(metrics.gauge('majra_pubsub_subscriptions', labels)).toBe(1);
  });
});

describe('TypedPubSub churn', () => {
  it('1,000,000 subscribe/unsubscribe cycles over random patterns leave it at its starting size', () => {
    const hub = new TypedPubSub<number>({
      maxCachedTopics: 64,
      replayCapacity: 1,
      maxReplayTopics: 32,
    });
    const start = hub.stats();
    const levels = ['a', 'b', 'c', '+', '*', ''];
    let state = 7;
    const rand = (n: number): number => {
      state = (state * 1103515245 + 12345) & 0x7fffffff;
      return state % n;
    };
    const live: (() => void)[] = [];
    const receivers: { close(): void }[] = [];
    let delivered = 0;
    for (let i = 0; i < 1_000_000; i++) {
      const depth = 1 + rand(4);
      const parts: string[] = [];
      for (let d = 0; d < depth; d++) parts.push(levels[rand(levels.length)] as string);
      if (rand(5) === 0) parts[depth - 1] = '#';
      const pattern = parts.join('/') || '#';
      if ((i & 255) === 0) receivers.push(hub.subscribe(pattern, { capacity: 2, replay: false }));
      else live.push(hub.on(pattern, () => delivered++, { replay: false }));
      if (live.length > 40) live.splice(rand(live.length), 1)[0]?.();
      if (receivers.length > 4) receivers.shift()?.close();
      if ((i & 63) === 0) hub.publish(`${levels[rand(3)]}/${levels[rand(3)]}/${i & 127}`, i);
    }
    for (const off of live) off();
    for (const rx of receivers) rx.close();
    const end = hub.stats();
    expect(delivered).toBeGreaterThan(0);
    expect(end.subscriptions).toBe(start.subscriptions);
    expect(end.patterns).toBe(start.patterns);
    expect(end.cachedTopics).toBe(0);
    expect(end.indexNodes).toBe(1);
    expect(start.indexNodes).toBe(1);
    expect(end.replayTopics).toBeLessThanOrEqual(32);
    expect(hub.patternCount).toBe(0);
  });
});

describe('TypedPubSub receivers', () => {
  it('recv honours its AbortSignal; `using` ends the subscription', async () => {
    const hub = new TypedPubSub<number>();
    {
      using rx = hub.subscribe('a');
      const ac = new AbortController();
      const waiting = rx.recv({ signal: ac.signal });
      ac.abort();
      await expect(waiting).rejects.toMatchObject({ code: 'ERR_ABORTED' });
      hub.publish('a', 1);
      await expect(rx.recv()).resolves.toMatchObject({ payload: 1 });
      expect(hub.subscriptionCount).toBe(1);
    }
    expect(hub.subscriptionCount).toBe(0);
    expect(hub.patternCount).toBe(0);
  });

  it('a waiting for-await consumer gets messages published later', async () => {
    const hub = new TypedPubSub<string>();
    const rx = hub.subscribe('jobs/+');
    const consumed = (async () => {
      const seen: string[] = [];
      for await (const m of rx) {
        seen.push(`${m.topic}=${m.payload}`);
        if (seen.length === 2) break;
      }
      return seen;
    })();
    await Promise.resolve();
    hub.publish('jobs/a', 'x');
    hub.publish('jobs/b', 'y');
    await expect(consumed).resolves.toEqual(['jobs/a=x', 'jobs/b=y']);
    expect(hub.subscriptionCount).toBe(0);
  });
});
