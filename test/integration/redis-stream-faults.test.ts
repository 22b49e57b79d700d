// RedisStreamPubSub under connection faults: connections killed while reading and
// acknowledging, an acknowledgement that fails, and close() while a connection waits to
// reconnect. Nothing may be lost and nothing may hang.
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { RedisStreamMessage } from '../../src/backends/redis/index.js';
import { isMajraError } from '../../src/core/errors.js';
import { redisScope } from '../support/redis.js';
import { streamHelpers, within } from '../support/redis-stream.js';
import { redisUrl } from '../support/services.js';

const scope = redisScope('redis_stream_faults');
afterAll(() => scope.cleanup());
const client = scope.client();
const { bus, drain, pendingCount, nextName } = streamHelpers(scope, client);
const admin = scope.client();

/** Kills the connections named `name` whose current command matches `commands`. */
async function kill(name: string, commands: RegExp): Promise<number> {
  let killed = 0;
  for (const line of String(await admin.client('LIST')).split('\n')) {
    const id = /^id=(\d+) /.exec(line)?.[1];
    const cmd = /\bcmd=(\S+)/.exec(line)?.[1] ?? '';
    if (id !== undefined && line.includes(` name=${name} `) && commands.test(cmd)) {
      killed += Number(await admin.client('KILL', 'ID', id).catch(() => 0));
    }
  }
  return killed;
}

describe('RedisStreamPubSub faults', () => {
  it('loses nothing while its connections are killed repeatedly mid-read and mid-ack', async () => {
    const name = nextName();
    const victim = `stream-victim-${name}`;
    const reader = new Redis(redisUrl(), { connectionName: victim }); // the reader duplicates it
    reader.on('error', () => undefined);
    const errors: Error[] = [];
    const publisher = await bus<number>({}, client, name);
    const sub = await bus<number>({ onError: (e) => errors.push(e) }, reader, name);
    const rx = await sub.subscribe('k/#', { group: 'g', blockMs: 1000 });
    const published: string[] = [];
    const seen = new Map<string, RedisStreamMessage<number>>();
    let kills = 0;
    for (let wave = 0; wave < 10; wave++) {
      for (let i = 0; i < 50; i++) published.push(await publisher.publish(`k/${wave}`, i));
      kills += await kill(victim, /^(xreadgroup|xautoclaim|xack)$/);
      // Consume part of the wave between kills.
      while (seen.size < published.length - 25) {
        const message = await rx.recv(within(20_000));
        seen.set(message.id, message);
        await sub.ack(message).catch(() => 0); // the kill may hit the ack; redelivery covers it
      }
    }
    await drain(sub, rx, published.length, seen);
    expect(kills).toBeGreaterThan(0);
    expect([...seen.keys()].sort()).toEqual([...published].sort());
    expect(errors.every((e) => isMajraError(e))).toBe(true);
    await Promise.all([publisher.close(), sub.close()]);
    reader.disconnect();
  });

  it('delivers a message again when its acknowledgement failed', async () => {
    const own = new Redis(redisUrl());
    own.on('error', () => undefined);
    const hub = await bus<string>({}, own);
    // Long claim idle time: only the failed-ack path can bring the message back in time.
    const rx = await hub.subscribe('x', { group: 'g', consumer: 'c', blockMs: 200 });
    await hub.publish('x', 'first');
    const message = await rx.recv(within());
    own.disconnect(); // the reader keeps its own connection; the ack's connection is gone
    const failure = await hub.ack(message).catch((error: unknown) => error);
    expect(isMajraError(failure) && failure.code).toBe('ERR_REDIS_COMMAND');
    await own.connect();
    const again = await rx.recv(within());
    expect([again.id, again.payload, again.redelivered]).toEqual([message.id, 'first', true]);
    expect(await hub.ack(again)).toBe(1);
    expect(await pendingCount(hub.streamKey, 'g')).toBe(0);
    await hub.close();
    own.disconnect();
  });

  it('closes while its reading connection waits to reconnect (no hang)', async () => {
    const name = nextName();
    const victim = `stream-slow-${name}`;
    // A long reconnect delay keeps the killed reader in "reconnecting" while close() runs.
    const own = new Redis(redisUrl(), { connectionName: victim, retryStrategy: () => 5000 });
    own.on('error', () => undefined);
    const hub = await bus<number>({}, own, name);
    await hub.subscribe('t', { group: 'g', blockMs: 2000 });
    let killed = 0;
    for (let i = 0; i < 100 && killed === 0; i++) {
      killed = await kill(victim, /^xreadgroup$/);
      if (killed === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(killed).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 100)); // the close is noticed
    const outcome = await Promise.race([
      hub.close().then(() => 'closed'),
      new Promise((resolve) => setTimeout(() => resolve('hung'), 4000)),
    ]);
    expect(outcome).toBe('closed');
    own.disconnect();
  });
});
