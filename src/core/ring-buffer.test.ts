import { describe, expect, it } from 'vitest';
import { MAX_RING_CAPACITY, RingBuffer } from './ring-buffer.js';

describe('RingBuffer', () => {
  it('is FIFO with exactly the capacity asked for (no power-of-two rounding)', () => {
    const ring = new RingBuffer<number>(3);
    expect(ring.push(1)).toBe(0);
    ring.push(2);
    ring.push(3);
    expect(ring.isFull).toBe(true);
    expect(ring.push(4)).toBe(1);
    expect(ring.overwritten).toBe(1);
    expect(ring.toArray()).toEqual([2, 3, 4]);
    expect(ring.shift()).toBe(2);
    expect(ring.peek()).toBe(3);
    expect(ring.size).toBe(2);
  });

  it('counts every overwrite and keeps the newest', () => {
    const ring = new RingBuffer<number>(5);
    for (let i = 0; i < 1000; i++) ring.push(i);
    expect(ring.overwritten).toBe(995);
    expect([...ring]).toEqual([995, 996, 997, 998, 999]);
  });

  it('grows lazily and wraps correctly while growing', () => {
    const ring = new RingBuffer<number>(100);
    const model: number[] = [];
    for (let i = 0; i < 10_000; i++) {
      if (i % 3 === 2) {
        expect(ring.shift()).toBe(model.shift());
      } else {
        ring.push(i);
        model.push(i);
        if (model.length > 100) model.shift();
      }
      expect(ring.size).toBe(model.length);
    }
    expect(ring.toArray()).toEqual(model);
  });

  it('clear empties but keeps the overwrite count', () => {
    const ring = new RingBuffer<string>(1);
    ring.push('a');
    ring.push('b');
    ring.clear();
    expect(ring.isEmpty).toBe(true);
    expect(ring.shift()).toBeUndefined();
    expect(ring.peek()).toBeUndefined();
    expect(ring.overwritten).toBe(1);
  });

  it.each([0, -1, Number.NaN, 1.5, Infinity, MAX_RING_CAPACITY + 1])('rejects capacity %o', (c) => {
    expect(() => new RingBuffer(c)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });

  it('accepts the maximum capacity without allocating it', () => {
    const ring = new RingBuffer<number>(MAX_RING_CAPACITY);
    ring.push(1);
    expect(ring.size).toBe(1);
  });
});
