/**
 * Names shared by the distributed demo's coordinator and workers.
 *
 * @module
 */

/** Key prefix of every Redis object of the demo. */
export const DEMO_REDIS_PREFIX = 'majra-demo:';
/** The Redis queue of GPU shard tasks. */
export const WORK_QUEUE = 'work';
/** The Redis heartbeat tracker of the workers. */
export const NODES_TRACKER = 'nodes';
/** The Redis pub/sub bus for progress and completions. */
export const PUBSUB_NAME = 'events';
/** The Redis token bucket in front of the external API. */
export const LIMITER_NAME = 'external-api';
/** PostgreSQL schema of the demo's workflow store. */
export const DEMO_PG_SCHEMA = 'majra_demo';
/** The PostgreSQL job queue of GPU shard tasks (`--postgres` without `--redis`). */
export const PG_WORK_QUEUE = 'demo-work';
