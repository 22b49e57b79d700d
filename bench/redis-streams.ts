// The stream rows of the Redis bench (run by redis.bench.ts): RedisStreamPubSub publish +
// consume + ack vs the same flow in raw XADD / XREADGROUP / XACK, and vs RedisPubSub
// (PUBLISH, at-most-once).
import { Redis } from 'ioredis';
import { RedisPubSub } from '../src/backends/redis/pubsub.js';
import { RedisStreamPubSub } from '../src/backends/redis/stream-pubsub.js';
import type { BenchOptions, BenchRow } from './lib.js';
import { alternate, throughput, URL_ } from './redis-lib.js';

/**
 * Publish + consume + ack end to end: RedisStreamPubSub vs raw XADD / XREADGROUP / XACK
 * and vs RedisPubSub, the three alternated over 3 runs.
 */
export async function streamRows(options: BenchOptions, prefix: string): Promise<BenchRow[]> {
  const n = options.quick ? 300 : 20_000;
  const runs = options.quick ? 1 : 3;
  const payload = { to: 'user@example.com', subject: 'hello', n: 0 };
  const producer = new Redis(URL_);
  const consumer = new Redis(URL_);

  // majra durable: publish with 64 in flight; one subscriber drains and acks in batches.
  const bus = new RedisStreamPubSub<typeof payload>(producer, 'stream', {
    prefix,
    maxLength: 4 * n,
  });
  const subBus = new RedisStreamPubSub<typeof payload>(consumer, 'stream', { prefix });
  const rx = await subBus.subscribe('mail/#', { group: 'g', capacity: 1024, maxUnacked: 4096 });
  const majra = async (): Promise<number> => {
    const start = performance.now();
    const consuming = (async () => {
      for (let got = 0; got < n;) {
        const batch = [await rx.recv()];
        for (let r = rx.tryRecv(); r.status === 'ok'; r = rx.tryRecv()) batch.push(r.value);
        await subBus.ack(batch);
        got += batch.length;
      }
    })();
    await throughput(n, 64, (i) => bus.publish(`mail/${i % 8}`, { ...payload, n: i }));
    await consuming;
    return n / ((performance.now() - start) / 1000);
  };

  // raw ioredis: the same flow by hand (JSON both ways, COUNT 256 reads, one XACK per read).
  const rawKey = `${prefix}raw-stream`;
  await producer.xgroup('CREATE', rawKey, 'g', '$', 'MKSTREAM');
  const raw = async (): Promise<number> => {
    const start = performance.now();
    const consuming = (async () => {
      for (let got = 0; got < n;) {
        const reply = (await consumer.call(
          'XREADGROUP',
          'GROUP',
          'g',
          'c',
          'COUNT',
          256,
          'BLOCK',
          1000,
          'STREAMS',
          rawKey,
          '>',
        )) as unknown[] | null;
        if (reply === null) continue;
        const first = reply[0];
        const entries = (typeof first === 'string' ? reply[1] : (first as unknown[])[1]) as [
          string,
          string[],
        ][];
        for (const [, fields] of entries) JSON.parse(fields[3] ?? 'null');
        await consumer.xack(rawKey, 'g', ...entries.map(([id]) => id));
        got += entries.length;
      }
    })();
    await throughput(n, 64, (i) =>
      producer.xadd(
        rawKey,
        'MAXLEN',
        '~',
        4 * n,
        '*',
        't',
        `mail/${i % 8}`,
        'p',
        JSON.stringify({ ...payload, n: i }),
      ),
    );
    await consuming;
    return n / ((performance.now() - start) / 1000);
  };

  // majra at-most-once: RedisPubSub (PUBLISH / PSUBSCRIBE), receiver big enough not to drop.
  const hub = new RedisPubSub<typeof payload>(producer, 'pubsub', { prefix });
  const hubRx = await hub.subscribe('mail/#', { capacity: n });
  const publish = async (): Promise<number> => {
    const start = performance.now();
    const consuming = (async () => {
      for (let got = 0; got < n; got++) await hubRx.recv({ signal: AbortSignal.timeout(30_000) });
    })();
    await throughput(n, 64, (i) => hub.publish(`mail/${i % 8}`, { ...payload, n: i }));
    await consuming;
    return n / ((performance.now() - start) / 1000);
  };

  const results = await alternate(runs, { majra, raw, publish });
  await Promise.all([bus.close(), subBus.close(), hub.close()]);
  producer.disconnect();
  consumer.disconnect();
  return [
    {
      name: 'RedisStreamPubSub publish (64 in flight) + subscriber recv + ack, end to end',
      unit: 'msg/s',
      majra: results.majra.value,
      spread: results.majra.spread,
      peer: {
        name: 'raw ioredis XADD + XREADGROUP COUNT 256 + XACK',
        value: results.raw.value,
        spread: results.raw.spread,
      },
    },
    {
      name: 'RedisStreamPubSub (durable) vs RedisPubSub (PUBLISH, at-most-once), same flow',
      unit: 'msg/s',
      majra: results.majra.value,
      spread: results.majra.spread,
      peer: {
        name: 'RedisPubSub publish + recv',
        value: results.publish.value,
        spread: results.publish.spread,
      },
    },
  ];
}
