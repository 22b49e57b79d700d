import { describe, expect, it } from 'vitest';
import { isMajraError } from '../core/errors.js';
import { MemoryMetricsSink } from '../testing/memory-metrics.js';
import { DirectChannel } from './direct-channel.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isMajraError(error) ? error.code : 'not a MajraError';
  }
  return undefined;
}

describe('DirectChannel', () => {
  it('broadcasts raw values to handlers and receivers; nothing before subscribe', async () => {
    const ch = new DirectChannel<number>(8);
    expect(ch.publish(0)).toBe(0);
    expect(ch.messagesPublished).toBe(1);
    const seen: number[] = [];
    const off = ch.on((v) => seen.push(v));
    const rx = ch.subscribe();
    expect(ch.subscriberCount).toBe(2);
    expect(ch.publish(1)).toBe(2);
    expect(seen).toEqual([1]);
    await expect(rx.recv()).resolves.toBe(1);
    off();
    off();
    rx.close();
    expect(ch.subscriberCount).toBe(0);
    expect(ch.publish(2)).toBe(0);
    expect(ch.stats()).toEqual({
      published: 3,
      delivered: 2,
      dropped: 0,
      lagged: 0,
      subscriptions: 0,
    });
  });

  it('applies each receiver its own overflow policy', async () => {
    const ch = new DirectChannel<number>(2);
    const oldest = ch.subscribe();
    const newest = ch.subscribe({ overflow: 'drop-newest' });
    const blocking = ch.subscribe({ overflow: 'block', capacity: 3 });
    for (let i = 1; i <= 3; i++) ch.publish(i);
    expect(ch.stats()).toMatchObject({ lagged: 1, dropped: 1 });
    expect([oldest.tryRecv(), newest.tryRecv()]).toEqual([
      { status: 'ok', value: 2 },
      { status: 'ok', value: 1 },
    ]);
    expect(codeOf(() => ch.publish(4))).toBe('ERR_PUBSUB_FULL');
    expect(oldest.pending).toBe(1);
    const p = ch.publishAsync(4);
    await blocking.recv();
    await expect(p).resolves.toBe(3);
  });

  it('a throwing handler goes to onError; unsubscribing inside a handler is safe', () => {
    const errors: string[] = [];
    const ch = new DirectChannel<number>(4, { onError: (e) => errors.push(e.message) });
    const seen: string[] = [];
    let offC: () => void = () => undefined;
    ch.on(() => {
      offC();
      throw new Error('boom');
    });
    ch.on((v) => {
      seen.push(`b${v}`);
      ch.on((w) => seen.push(`late${w}`));
    });
    offC = ch.on((v) => seen.push(`c${v}`));
    expect(ch.publish(1)).toBe(2);
    expect(seen).toEqual(['b1']);
    expect(errors).toEqual(['boom']);
    ch.publish(2);
    expect(seen).toEqual(['b1', 'b2', 'late2']);
  });

  it('reports metrics with the direct label', () => {
    const metrics = new MemoryMetricsSink();
    const ch = new DirectChannel<number>(1, { metrics });
    ch.subscribe();
    ch.publish(1);
    ch.publish(2);
    const labels = { hub: 'direct' };
    expect(metrics.counter('majra_pubsub_published_total', labels)).toBe(2);
    expect(metrics.counter('majra_pubsub_delivered_total', labels)).toBe(2);
    expect(metrics.counter('majra_pubsub_lagged_total', labels)).toBe(1);
    expect(metrics.gauge('majra_pubsub_subscriptions', labels)).toBe(1);
  });

  it('validates capacity and options; close ends receivers and refuses use', async () => {
    for (const capacity of [0, -1, Number.NaN, 2.5, 2 ** 25]) {
      expect(codeOf(() => new DirectChannel(capacity))).toBe('ERR_INVALID_ARGUMENT');
    }
    expect(codeOf(() => new DirectChannel(1, { overflow: 'x' as 'block' }))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    const ch = new DirectChannel<number>(4);
    expect(codeOf(() => ch.on('x' as unknown as () => void))).toBe('ERR_INVALID_ARGUMENT');
    const rx = ch.subscribe();
    ch.publish(1);
    await ch.close();
    await ch.close();
    expect(codeOf(() => ch.publish(2))).toBe('ERR_PUBSUB_CLOSED');
    expect(codeOf(() => ch.subscribe())).toBe('ERR_PUBSUB_CLOSED');
    const seen: number[] = [];
    for await (const v of rx) seen.push(v);
    expect(seen).toEqual([1]);
    expect(ch.isClosed).toBe(true);
  });
});
