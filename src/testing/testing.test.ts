import { describe, expect, it } from 'vitest';
import { systemClock } from '../core/clock.js';
import { defineMetric, noopMetrics } from '../core/metrics.js';
import { collect } from './collect.js';
import { ManualClock } from './manual-clock.js';
import { MemoryMetricsSink } from './memory-metrics.js';

describe('ManualClock', () => {
  it('fires timers in due order, ties in creation order, and moves both clocks', () => {
    const clock = new ManualClock(1_000);
    const fired: string[] = [];
    clock.setTimer(30, () => fired.push('c'));
    clock.setTimer(10, () => fired.push('a'));
    clock.setTimer(10, () => fired.push('b'));
    clock.advance(20);
    expect(fired).toEqual(['a', 'b']);
    expect(clock.now()).toBe(1_020);
    expect(clock.monotonic()).toBe(20);
    clock.advance(10);
    expect(fired).toEqual(['a', 'b', 'c']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('sees time at the due instant inside a callback and fires timers armed by timers', () => {
    const clock = new ManualClock(0);
    const seen: number[] = [];
    clock.setTimer(5, () => {
      seen.push(clock.monotonic());
      clock.setTimer(5, () => seen.push(clock.monotonic()));
    });
    clock.advance(20);
    expect(seen).toEqual([5, 10]);
  });

  it('cancel removes a timer; unref is chainable', () => {
    const clock = new ManualClock();
    let fired = false;
    const handle = clock.setTimer(1, () => (fired = true)).unref();
    handle.cancel();
    handle.cancel();
    clock.advance(5);
    expect(fired).toBe(false);
  });

  it('advanceAsync lets awaiting code run between timers', async () => {
    const clock = new ManualClock();
    const order: string[] = [];
    const wait = (ms: number) => new Promise<void>((r) => clock.setTimer(ms, r));
    const task = (async () => {
      await wait(10);
      order.push('first');
      await wait(10); // armed only after the first resolves
      order.push('second');
    })();
    await clock.advanceAsync(20);
    await task;
    expect(order).toEqual(['first', 'second']);
  });

  it('setWallTime jumps the wall clock only', () => {
    const clock = new ManualClock(0);
    clock.setWallTime(-5_000);
    expect(clock.now()).toBe(-5_000);
    expect(clock.monotonic()).toBe(0);
    expect(() => clock.advance(-1)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});

describe('systemClock', () => {
  it('reads real time and runs real timers', async () => {
    const before = systemClock.now();
    const m = systemClock.monotonic();
    await new Promise<void>((resolve) => systemClock.setTimer(1, resolve).unref());
    expect(systemClock.now()).toBeGreaterThanOrEqual(before);
    expect(systemClock.monotonic()).toBeGreaterThanOrEqual(m);
    let fired = false;
    const t = systemClock.setTimer(1, () => (fired = true));
    t.cancel();
    await new Promise((r) => setTimeout(r, 5));
    expect(fired).toBe(false);
  });
});

describe('metrics', () => {
  const published = defineMetric({
    name: 'majra_test_published_total',
    type: 'counter',
    help: 'Messages published.',
    labelNames: ['tier'],
  });
  const depth = defineMetric({ name: 'majra_test_depth', type: 'gauge', help: 'Depth.' });
  const latency = defineMetric({
    name: 'majra_test_latency_ms',
    type: 'histogram',
    help: 'Latency.',
  });

  it('MemoryMetricsSink records counters, gauges and histograms by series', () => {
    const sink = new MemoryMetricsSink();
    sink.increment(published, 1, { tier: 'typed' });
    sink.increment(published, 2, { tier: 'typed' });
    sink.increment(published);
    sink.set(depth, 7);
    sink.observe(latency, 1.5);
    sink.observe(latency, 2.5);
    expect(sink.counter('majra_test_published_total', { tier: 'typed' })).toBe(3);
    expect(sink.counter('majra_test_published_total')).toBe(1);
    expect(sink.gauge('majra_test_depth')).toBe(7);
    expect(sink.histograms.get('majra_test_latency_ms')).toEqual([1.5, 2.5]);
    expect(sink.definitions.get('majra_test_depth')).toBe(depth);
  });

  it('noopMetrics accepts everything and returns nothing', () => {
    expect(noopMetrics.increment(published)).toBeUndefined();
    expect(noopMetrics.set(depth, 1)).toBeUndefined();
    expect(noopMetrics.observe(latency, 1)).toBeUndefined();
    expect(Object.isFrozen(published)).toBe(true);
  });
});

describe('collect', () => {
  it('takes the first n items and stops the iterator', async () => {
    let finished = false;
    async function* gen() {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        finished = true;
      }
    }
    expect(await collect(gen(), 3)).toEqual([0, 1, 2]);
    expect(finished).toBe(true);
    expect(await collect(gen(), 0)).toEqual([]);
  });
});
