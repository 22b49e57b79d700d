// Shared helpers of the RedisStreamPubSub integration tests: buses under the file's
// prefix, a receive-and-ack drain, and the group's pending count.
import type { Redis } from 'ioredis';
import {
  connectRedisStreamPubSub,
  type RedisStreamMessage,
  type RedisStreamPubSub,
  type RedisStreamPubSubOptions,
} from '../../src/backends/redis/index.js';
import type { Receiver } from '../../src/pubsub/receiver.js';
import type { RedisScope } from './redis.js';

/** Options of a wait that gives up after `ms`. */
export const within = (ms = 10_000) => ({ signal: AbortSignal.timeout(ms) });

export function streamHelpers(scope: RedisScope, client: Redis) {
  let counter = 0;
  const nextName = (): string => `bus${counter++}`;

  function bus<T = unknown>(
    options: RedisStreamPubSubOptions = {},
    redis: Redis = client,
    name = nextName(),
  ): Promise<RedisStreamPubSub<T>> {
    return connectRedisStreamPubSub<T>(redis, name, { prefix: scope.prefix, ...options });
  }

  /** Receives and acknowledges until `count` distinct ids were seen; returns them in order. */
  async function drain<T>(
    hub: RedisStreamPubSub<T>,
    rx: Receiver<RedisStreamMessage<T>>,
    count: number,
    seen = new Map<string, RedisStreamMessage<T>>(),
  ): Promise<Map<string, RedisStreamMessage<T>>> {
    while (seen.size < count) {
      const message = await rx.recv(within(20_000));
      seen.set(message.id, message);
      await hub.ack(message);
    }
    return seen;
  }

  async function pendingCount(key: string, group: string): Promise<number> {
    const summary = (await client.call('XPENDING', key, group)) as unknown[];
    return Number(summary[0]);
  }

  return { bus, drain, pendingCount, nextName };
}
