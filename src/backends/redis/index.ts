/**
 * Redis backend: a reliable priority queue, distributed rate limiters, a heartbeat
 * tracker and cross-process pub/sub, all on one ioredis client. Import from
 * `majra/redis`; `ioredis` is an optional peer dependency. Pass an ioredis client (you
 * keep owning it) or a `redis://` URL (the object owns and closes its connection).
 *
 * @example
 * ```ts
 * import { connectRedisQueue } from 'majra/redis';
 *
 * const queue = await connectRedisQueue<{ to: string }>('redis://127.0.0.1:6379', 'emails');
 * await queue.enqueue({ to: 'a@example.com' }, { priority: 5 });
 * const job = await queue.dequeueWait({ signal: AbortSignal.timeout(5000) });
 * await queue.ack(job);
 * await queue.close();
 * ```
 *
 * @module
 */
export { RedisQueue, connectRedisQueue } from './queue.js';
export { MAX_REDIS_QUEUE_PRIORITY } from './queue-types.js';
export type {
  RedisJob,
  RedisDeadLetter,
  RedisQueueStats,
  RedisNackOutcome,
  RedisQueueOptions,
} from './queue-types.js';
export { escapeGlob, DEFAULT_REDIS_PREFIX, MAX_REDIS_PREFIX_LENGTH } from './keys.js';
export type { RedisKeyOptions } from './keys.js';
export type { RedisConnectionInput } from './connection.js';
export {
  RedisRateLimiter,
  RedisSlidingWindowLimiter,
  connectRedisRateLimiter,
  connectRedisSlidingWindowLimiter,
} from './rate-limiter.js';
export type {
  RedisLimiterBaseOptions,
  RedisRateLimiterOptions,
  RedisSlidingWindowLimiterOptions,
} from './rate-limiter.js';
export { RedisHeartbeatTracker, connectRedisHeartbeatTracker } from './heartbeat.js';
export type { RedisHeartbeatTrackerOptions } from './heartbeat.js';
export { RedisPubSub, connectRedisPubSub } from './pubsub.js';
export type { RedisPubSubOptions, RedisSubscribeOptions, RedisPubSubGap } from './pubsub.js';
export { RedisStreamPubSub, connectRedisStreamPubSub } from './stream-pubsub.js';
export type {
  RedisStreamPubSubOptions,
  RedisStreamSubscribeOptions,
  RedisStreamMessage,
} from './stream-pubsub.js';
