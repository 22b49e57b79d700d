import { describe, expect, it } from 'vitest';
import { Inbox } from './inbox.js';

async function drain<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe('Inbox.iterate', () => {
  it('yields buffered and later items in order, then ends', async () => {
    const inbox = new Inbox<number>(8);
    inbox.push(1);
    const all = drain(inbox.iterate());
    await Promise.resolve();
    inbox.push(2);
    inbox.push(3);
    inbox.end();
    expect(await all).toEqual([1, 2, 3]);
  });

  it('delivers buffered items before the end error', async () => {
    const inbox = new Inbox<number>(8);
    const seen: number[] = [];
    const consuming = (async () => {
      for await (const item of inbox.iterate()) seen.push(item);
    })();
    inbox.push(1);
    inbox.end(new Error('broken'));
    await expect(consuming).rejects.toThrow('broken');
    expect(seen).toEqual([1]);
  });

  it('refuses a second concurrent iteration, and allows one after a break', async () => {
    const inbox = new Inbox<number>(8);
    inbox.push(1);
    inbox.push(2);
    const first = inbox.iterate();
    expect(await first.next()).toEqual({ done: false, value: 1 });
    await expect(inbox.iterate().next()).rejects.toThrow('already being consumed');
    for await (const item of first) {
      expect(item).toBe(2);
      break;
    }
    inbox.push(3);
    inbox.end();
    expect(await drain(inbox.iterate())).toEqual([3]);
  });

  it('serialises next() calls made without awaiting', async () => {
    const inbox = new Inbox<number>(8);
    const it = inbox.iterate();
    const a = it.next();
    const b = it.next();
    inbox.push(1);
    inbox.push(2);
    expect(await a).toEqual({ done: false, value: 1 });
    expect(await b).toEqual({ done: false, value: 2 });
  });

  it('wakes space waiters and onSpace when a full inbox is read', async () => {
    const inbox = new Inbox<number>(1);
    let spaced = 0;
    inbox.onSpace = () => spaced++;
    inbox.push(1);
    expect(inbox.isFull).toBe(true);
    const space = inbox.waitForSpace();
    const it = inbox.iterate();
    expect(await it.next()).toEqual({ done: false, value: 1 });
    await space;
    expect(spaced).toBe(1);
  });
});

describe('Inbox.consume', () => {
  it('hands buffered items first, then each push synchronously, and resolves at the end', async () => {
    const inbox = new Inbox<number>(8);
    inbox.push(1);
    inbox.push(2);
    const seen: number[] = [];
    const done = inbox.consume((n) => seen.push(n));
    expect(seen).toEqual([1, 2]);
    inbox.push(3);
    expect(seen).toEqual([1, 2, 3]); // no await needed
    expect(inbox.size).toBe(0);
    inbox.end();
    await expect(done).resolves.toBeUndefined();
    inbox.push(4);
    expect(seen).toEqual([1, 2, 3]);
  });

  it('rejects with the end error after the buffered items', async () => {
    const inbox = new Inbox<number>(8);
    inbox.push(1);
    inbox.end(new Error('broken'));
    const seen: number[] = [];
    await expect(inbox.consume((n) => seen.push(n))).rejects.toThrow('broken');
    expect(seen).toEqual([1]);
  });

  it('a throwing consumer ends the stream with its error; the producer is not affected', async () => {
    const inbox = new Inbox<number>(8);
    const done = inbox.consume((n) => {
      if (n === 2) throw new Error('bad item');
    });
    inbox.push(1);
    expect(() => inbox.push(2)).not.toThrow();
    inbox.push(3);
    await expect(done).rejects.toThrow('bad item');
    expect(inbox.isEnded).toBe(true);
    expect(inbox.size).toBe(0);
  });

  it('is exclusive with iterate()', async () => {
    const inbox = new Inbox<number>(8);
    const done = inbox.consume(() => undefined);
    await expect(inbox.iterate().next()).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    const other = new Inbox<number>(8);
    void other.iterate().next();
    await expect(other.consume(() => undefined)).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    inbox.end();
    await done;
  });
});
