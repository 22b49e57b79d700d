/**
 * In-process pub/sub in three tiers plus a JSON hub:
 * `DirectChannel` (raw broadcast), `HashedChannel` (exact topics), `TypedPubSub`
 * (wildcards through a trie, filters, replay, overflow policies) and `PubSub` (JSON
 * payloads, tenant isolation with `Namespace`). Every hub offers `subscribe()` (a
 * buffered `Receiver`) and `on()` (a synchronous handler). `createReceiver` lets any
 * producer hand out the same `Receiver`.
 *
 * @example
 * ```ts
 * import { TypedPubSub } from 'majra/pubsub';
 * const hub = new TypedPubSub<{ celsius: number }>();
 * const off = hub.on('sensors/+/temp', (reading, topic) => console.log(topic, reading.celsius));
 * using rx = hub.subscribe('sensors/#', { capacity: 1000, overflow: 'drop-oldest' });
 * hub.publish('sensors/kitchen/temp', { celsius: 21 });
 * for await (const m of rx) { console.log(m.payload); break; }
 * off();
 * ```
 *
 * @module
 */
export {
  validateTopic,
  validatePattern,
  matchesPattern,
  isWildcardPattern,
  MAX_TOPIC_DEPTH,
  MAX_TOPIC_LENGTH,
} from './topic.js';
export { createReceiver, DEFAULT_RECEIVER_CAPACITY } from './receiver.js';
export type {
  Receiver,
  ReceiverSource,
  ReceiverPair,
  ReceiverOptions,
  TryRecvResult,
  PushResult,
  OverflowPolicy,
} from './receiver.js';
export { DirectChannel } from './direct-channel.js';
export type { ChannelOptions, ChannelSubscribeOptions, ChannelStats } from './channel-support.js';
export { HashedChannel, TopicHash } from './hashed-channel.js';
export type { HashedMessage, HashedChannelOptions } from './hashed-channel.js';
export { TypedPubSub } from './typed-pubsub.js';
export type { TypedPubSubOptions } from './typed-pubsub.js';
export { PubSub, toUntyped, fromUntyped } from './pubsub.js';
export type { PubSubOptions, TopicMessage } from './pubsub.js';
export { HubScope } from './hub-scope.js';
export type { TypedMessage, HandlerOptions, SubscribeOptions, PubSubStats } from './types.js';
export type { PubSubErrorHandler } from './subscription.js';
export {
  PUBSUB_PUBLISHED,
  PUBSUB_DELIVERED,
  PUBSUB_DROPPED,
  PUBSUB_LAGGED,
  PUBSUB_SUBSCRIPTIONS,
} from './metrics.js';
export type { PubSubHubKind } from './metrics.js';
