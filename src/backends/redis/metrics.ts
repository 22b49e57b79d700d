import { defineMetric } from '../../core/metrics.js';

/** Jobs added to a RedisQueue. */
export const redisQueueEnqueued = defineMetric({
  name: 'majra_redis_queue_enqueued_total',
  type: 'counter',
  help: 'Jobs added to a Redis queue.',
});

/** Jobs delivered to a consumer (first delivery or redelivery). */
export const redisQueueDelivered = defineMetric({
  name: 'majra_redis_queue_delivered_total',
  type: 'counter',
  help: 'Jobs delivered to a consumer, redeliveries included.',
});

/** Jobs acknowledged (done). */
export const redisQueueAcked = defineMetric({
  name: 'majra_redis_queue_acked_total',
  type: 'counter',
  help: 'Jobs acknowledged by a consumer.',
});

/** Jobs given back, by outcome. */
export const redisQueueNacked = defineMetric({
  name: 'majra_redis_queue_nacked_total',
  type: 'counter',
  help: 'Jobs given back by a consumer, by outcome (requeued, delayed, dead).',
  labelNames: ['outcome'],
});

/** Jobs whose lease expired and that were put back (consumer died or stalled). */
export const redisQueueReclaimed = defineMetric({
  name: 'majra_redis_queue_reclaimed_total',
  type: 'counter',
  help: 'Jobs reclaimed after their lease expired.',
});

/** Jobs moved to the dead-letter set. */
export const redisQueueDeadLettered = defineMetric({
  name: 'majra_redis_queue_dead_lettered_total',
  type: 'counter',
  help: 'Jobs moved to the dead-letter set.',
});

/** Acks or nacks that found the lease already lost. */
export const redisQueueLeaseLost = defineMetric({
  name: 'majra_redis_queue_lease_lost_total',
  type: 'counter',
  help: 'Acks, nacks or extends that arrived after the lease was lost.',
});

/** Rate limiter decisions. */
export const redisRateLimitDecisions = defineMetric({
  name: 'majra_redis_ratelimit_decisions_total',
  type: 'counter',
  help: 'Redis rate limiter decisions, by limiter kind and outcome.',
  labelNames: ['limiter', 'outcome'],
});

/** Heartbeats written. */
export const redisHeartbeats = defineMetric({
  name: 'majra_redis_heartbeat_beats_total',
  type: 'counter',
  help: 'Heartbeats written to Redis.',
});

/** Background errors (blocking loop, resubscribe). */
export const redisBackgroundErrors = defineMetric({
  name: 'majra_redis_background_errors_total',
  type: 'counter',
  help: 'Errors in background work of Redis-backed primitives, by component.',
  labelNames: ['component'],
});

/** Pub/sub messages, by direction (published, delivered). */
export const redisPubSubMessages = defineMetric({
  name: 'majra_redis_pubsub_messages_total',
  type: 'counter',
  help: 'Redis pub/sub messages published and delivered to receivers.',
  labelNames: ['direction'],
});

/** Subscriber reconnects after which messages may have been missed. */
export const redisPubSubGaps = defineMetric({
  name: 'majra_redis_pubsub_gaps_total',
  type: 'counter',
  help: 'Subscriber connection gaps (reconnect + resubscribe) during which messages were missed.',
});

/** Durable (Redis Streams) pub/sub entries, by event. */
export const redisStreamMessages = defineMetric({
  name: 'majra_redis_stream_messages_total',
  type: 'counter',
  help: 'Durable pub/sub stream entries, by event (published, delivered, redelivered, acked, skipped, lost).',
  labelNames: ['event'],
});
