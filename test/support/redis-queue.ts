// Shared helpers of the RedisQueue integration tests: queues under the file's prefix on
// a fresh connection each, and a dequeue-and-ack drain.
import type { Redis } from 'ioredis';
import { expect } from 'vitest';
import {
  connectRedisQueue,
  type RedisJob,
  type RedisQueue,
  type RedisQueueOptions,
} from '../../src/backends/redis/index.js';
import type { RedisScope } from './redis.js';

export function queueHelpers(scope: RedisScope) {
  let counter = 0;
  const nextName = (): string => `q${counter++}`;

  async function makeQueue<T = unknown>(
    options: RedisQueueOptions = {},
    client: Redis = scope.client(),
  ): Promise<RedisQueue<T>> {
    return connectRedisQueue<T>(client, nextName(), { prefix: scope.prefix, ...options });
  }

  /** Dequeues and acknowledges until the queue is empty; returns the jobs in order. */
  async function drain<T>(queue: RedisQueue<T>): Promise<RedisJob<T>[]> {
    const out: RedisJob<T>[] = [];
    for (;;) {
      const job = await queue.dequeue();
      if (job === undefined) return out;
      out.push(job);
      expect(await queue.ack(job)).toBe(true);
    }
  }

  return { makeQueue, drain, nextName };
}
