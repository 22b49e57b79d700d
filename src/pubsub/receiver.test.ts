import { describe, expect, it } from 'vitest';
import { AbortedError, ClosedError, InvalidArgumentError, isMajraError } from '../core/errors.js';
import { createReceiver, ReceiverQueue } from './receiver.js';

describe('Receiver', () => {
  it('delivers FIFO through recv, tryRecv and iteration', async () => {
    const { receiver, source } = createReceiver<number>({ capacity: 8 });
    expect(source.push(1)).toBe('delivered');
    expect(source.push(2)).toBe('delivered');
    expect(receiver.pending).toBe(2);
    expect(receiver.tryRecv()).toEqual({ status: 'ok', value: 1 });
    await expect(receiver.recv()).resolves.toBe(2);
    expect(receiver.tryRecv()).toEqual({ status: 'empty' });
    source.push(3);
    source.end();
    const seen: number[] = [];
    for await (const v of receiver) seen.push(v);
    expect(seen).toEqual([3]);
    expect(receiver.isClosed).toBe(true);
    expect(receiver.tryRecv()).toEqual({ status: 'closed' });
  });

  it('hands an item to a waiting recv', async () => {
    const { receiver, source } = createReceiver<string>();
    const p = receiver.recv();
    expect(source.push('x')).toBe('delivered');
    await expect(p).resolves.toBe('x');
    expect(receiver.pending).toBe(0);
  });

  it('drop-oldest overwrites and counts lag, reported to onLag before the next item', () => {
    const lags: number[] = [];
    const { receiver, source } = createReceiver<number>({
      capacity: 4,
      onLag: (n) => lags.push(n),
    });
    const results = [1, 2, 3, 4, 5, 6].map((v) => source.push(v));
    expect(results).toEqual([
      'delivered',
      'delivered',
      'delivered',
      'delivered',
      'lagged',
      'lagged',
    ]);
    expect(receiver.missed).toBe(2);
    expect(receiver.tryRecv()).toEqual({ status: 'ok', value: 3 });
    expect(lags).toEqual([2]);
    expect(receiver.tryRecv()).toEqual({ status: 'ok', value: 4 });
    expect(lags).toEqual([2]);
  });

  it('drop-newest refuses and counts', () => {
    const { receiver, source } = createReceiver<number>({ capacity: 2, overflow: 'drop-newest' });
    expect([1, 2, 3].map((v) => source.push(v))).toEqual(['delivered', 'delivered', 'dropped']);
    expect(receiver.missed).toBe(1);
    expect(receiver.tryRecv()).toEqual({ status: 'ok', value: 1 });
    expect(receiver.tryRecv()).toEqual({ status: 'ok', value: 2 });
    expect(receiver.tryRecv()).toEqual({ status: 'empty' });
  });

  it('block refuses with full and wakes a producer waiting for space', async () => {
    const { receiver, source } = createReceiver<number>({ capacity: 1, overflow: 'block' });
    expect(source.push(1)).toBe('delivered');
    expect(source.isFull).toBe(true);
    expect(source.push(2)).toBe('full');
    expect(receiver.missed).toBe(0);
    let woke = false;
    const wait = source.waitForSpace().then(() => {
      woke = true;
    });
    await Promise.resolve();
    expect(woke).toBe(false);
    expect(receiver.tryRecv()).toEqual({ status: 'ok', value: 1 });
    await wait;
    expect(woke).toBe(true);
    expect(source.push(2)).toBe('delivered');
  });

  it('waitForSpace honours abort and resolves when the consumer closes', async () => {
    const { receiver, source } = createReceiver<number>({ capacity: 1, overflow: 'block' });
    source.push(1);
    const ac = new AbortController();
    const aborted = source.waitForSpace({ signal: ac.signal });
    ac.abort();
    await expect(aborted).rejects.toBeInstanceOf(AbortedError);
    const released = source.waitForSpace();
    receiver.close();
    await expect(released).resolves.toBeUndefined();
    expect(source.push(2)).toBe('closed');
  });

  it('recv abort rejects AbortedError and leaves the receiver usable', async () => {
    const { receiver, source } = createReceiver<number>();
    const ac = new AbortController();
    const p = receiver.recv({ signal: ac.signal });
    ac.abort(new Error('stop'));
    await expect(p).rejects.toBeInstanceOf(AbortedError);
    source.push(7);
    expect(receiver.pending).toBe(1);
    await expect(receiver.recv({ signal: ac.signal })).resolves.toBe(7);
    await expect(receiver.recv({ signal: ac.signal })).rejects.toBeInstanceOf(AbortedError);
  });

  it('abort after the value arrived is a no-op', async () => {
    const { receiver, source } = createReceiver<number>();
    const ac = new AbortController();
    const p = receiver.recv({ signal: ac.signal });
    source.push(1);
    ac.abort();
    await expect(p).resolves.toBe(1);
  });

  it('consumer close rejects pending recv, drops the buffer, calls onCancel once', async () => {
    let cancelled = 0;
    const { receiver, source } = createReceiver<number>({ onCancel: () => cancelled++ });
    const p = receiver.recv();
    receiver.close();
    const error: unknown = await p.catch((e: unknown) => e);
    expect(isMajraError(error, 'ERR_PUBSUB_RECEIVER_CLOSED')).toBe(true);
    receiver.close();
    receiver[Symbol.dispose]();
    expect(cancelled).toBe(1);
    expect(source.isClosed).toBe(true);
    expect(source.push(1)).toBe('closed');
    await expect(receiver.closed).resolves.toBeUndefined();
  });

  it('producer end drains first, then closes; fail rejects with the error after draining', async () => {
    const a = createReceiver<number>();
    a.source.push(1);
    a.source.end();
    expect(a.receiver.isClosed).toBe(false);
    await expect(a.receiver.recv()).resolves.toBe(1);
    expect(a.receiver.isClosed).toBe(true);
    await expect(a.receiver.recv()).rejects.toBeInstanceOf(ClosedError);

    const b = createReceiver<number>();
    const boom = new Error('connection lost');
    b.source.push(1);
    b.source.fail(boom);
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const v of b.receiver) seen.push(v);
      })(),
    ).rejects.toBe(boom);
    expect(seen).toEqual([1]);
  });

  it('break out of for-await closes the receiver', async () => {
    const { receiver, source } = createReceiver<number>();
    source.push(1);
    source.push(2);
    for await (const v of receiver) {
      expect(v).toBe(1);
      break;
    }
    expect(receiver.isClosed).toBe(true);
    expect(source.isClosed).toBe(true);
  });

  it('serves several concurrent recv in order', async () => {
    const { receiver, source } = createReceiver<number>();
    const a = receiver.recv();
    const b = receiver.recv();
    source.push(1);
    source.push(2);
    await expect(Promise.all([a, b])).resolves.toEqual([1, 2]);
  });

  it('rejects bad options with typed errors', () => {
    for (const capacity of [0, -1, Number.NaN, 1.5, 2 ** 25]) {
      expect(() => new ReceiverQueue({ capacity })).toThrow(InvalidArgumentError);
    }
    expect(() => createReceiver({ overflow: 'nope' as 'block' })).toThrow(InvalidArgumentError);
    expect(() => createReceiver({ onLag: 1 as unknown as () => void })).toThrow(
      InvalidArgumentError,
    );
  });

  it('a throwing onLag does not lose the item', () => {
    const { receiver, source } = createReceiver<number>({
      capacity: 1,
      onLag: () => {
        throw new Error('bad hook');
      },
    });
    source.push(1);
    source.push(2);
    expect(receiver.tryRecv()).toEqual({ status: 'ok', value: 2 });
  });
});
