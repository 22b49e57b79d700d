import { describe, expect, it } from 'vitest';
import { isMajraError } from '../core/errors.js';
import { ManualClock } from '../testing/manual-clock.js';
import { HashedChannel, TopicHash } from './hashed-channel.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isMajraError(error) ? error.code : 'not a MajraError';
  }
  return undefined;
}

describe('HashedChannel', () => {
  it('routes by exact topic with monotonic timestamps', async () => {
    const clock = new ManualClock();
    const ch = new HashedChannel<string>(8, { clock });
    const rx = ch.subscribe('jobs/done');
    const seen: string[] = [];
    ch.on(TopicHash.of('jobs/done'), (p, t) => seen.push(`${t}:${p}`));
    expect(ch.publish('jobs/failed', 'x')).toBe(0);
    clock.advance(2);
    expect(ch.publish('jobs/done', 'a')).toBe(2);
    clock.advance(3);
    expect(ch.publish(TopicHash.of('jobs/done'), 'b')).toBe(2);
    const a = await rx.recv();
    const b = await rx.recv();
    expect([a.topic, a.payload, a.timestampNs]).toEqual(['jobs/done', 'a', 2_000_000]);
    expect(b.timestampNs).toBe(5_000_000);
    expect(seen).toEqual(['jobs/done:a', 'jobs/done:b']);
    expect(ch.topicCount).toBe(1);
    expect(ch.messagesPublished).toBe(3);
  });

  it('never mixes topics whose 64-bit hashes would collide: routing uses the string', () => {
    const ch = new HashedChannel<number>(4);
    const topics = Array.from({ length: 2000 }, (_, i) => `t/${i}`);
    const receivers = topics.map((t) => ch.subscribe(t));
    topics.forEach((t, i) => ch.publish(t, i));
    receivers.forEach((rx, i) => {
      expect(rx.tryRecv()).toMatchObject({ status: 'ok', value: { payload: i } });
      expect(rx.pending).toBe(0);
    });
    expect(TopicHash.of('a').value).toBe(TopicHash.of('a').value);
    expect(TopicHash.of('a').value).not.toBe(TopicHash.of('b').value);
    expect(TopicHash.of('a').equals(TopicHash.of('a'))).toBe(true);
    expect(TopicHash.of('a').value).toBe(0xaf63dc4c8601ec8cn); // FNV-1a 64 of "a"
  });

  it('unsubscribe ends receivers after draining; last subscriber leaving removes the topic', async () => {
    const ch = new HashedChannel<number>(4);
    const rx = ch.subscribe('t');
    const off = ch.on('t', () => undefined);
    ch.publish('t', 1);
    expect(ch.unsubscribe('t')).toBe(2);
    expect(ch.unsubscribe('t')).toBe(0);
    expect(ch.topicCount).toBe(0);
    await expect(rx.recv()).resolves.toMatchObject({ payload: 1 });
    await expect(rx.recv()).rejects.toMatchObject({ code: 'ERR_PUBSUB_RECEIVER_CLOSED' });
    off();
    const again = ch.subscribe('u');
    again.close();
    expect(ch.topicCount).toBe(0);
    expect(ch.stats().subscriptions).toBe(0);
  });

  it('block policy: publish refuses, publishAsync waits', async () => {
    const ch = new HashedChannel<number>(1, { overflow: 'block' });
    const rx = ch.subscribe('b');
    ch.publish('b', 1);
    expect(codeOf(() => ch.publish('b', 2))).toBe('ERR_PUBSUB_FULL');
    const p = ch.publishAsync('b', 2);
    await rx.recv();
    await expect(p).resolves.toBe(1);
  });

  it('rejects bad input with codes and keeps working', async () => {
    const ch = new HashedChannel<number>(2);
    expect(codeOf(() => new HashedChannel(0))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => ch.subscribe('a/+'))).toBe('ERR_PUBSUB_INVALID_TOPIC');
    expect(codeOf(() => ch.publish('a/#', 1))).toBe('ERR_PUBSUB_INVALID_TOPIC');
    expect(codeOf(() => TopicHash.of(''))).toBe('ERR_PUBSUB_INVALID_TOPIC');
    expect(codeOf(() => ch.on('a', null as unknown as () => void))).toBe('ERR_INVALID_ARGUMENT');
    expect(ch.topicCount).toBe(0);
    await ch.close();
    expect(codeOf(() => ch.publish('a', 1))).toBe('ERR_PUBSUB_CLOSED');
    expect(codeOf(() => ch.subscribe('a'))).toBe('ERR_PUBSUB_CLOSED');
  });
});
