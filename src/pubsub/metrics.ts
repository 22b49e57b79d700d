/**
 * Metric definitions reported by the pub/sub hubs. The only label is `hub`, one of
 * `typed`, `json`, `direct`, `hashed` (never a topic or an id), so series stay bounded.
 *
 * @module
 */
import { defineMetric, type MetricLabels } from '../core/metrics.js';

/** Which kind of hub reported a series. */
export type PubSubHubKind = 'typed' | 'json' | 'direct' | 'hashed';

/** Messages published (one per `publish` call that did not throw). */
export const PUBSUB_PUBLISHED = defineMetric({
  name: 'majra_pubsub_published_total',
  type: 'counter',
  help: 'Messages published.',
  labelNames: ['hub'],
});

/** Deliveries accepted by a subscriber (handler called or item buffered). */
export const PUBSUB_DELIVERED = defineMetric({
  name: 'majra_pubsub_delivered_total',
  type: 'counter',
  help: 'Messages delivered to subscribers.',
  labelNames: ['hub'],
});

/** Deliveries refused by a full `drop-newest` (or `block`, on re-entrant publish) subscriber. */
export const PUBSUB_DROPPED = defineMetric({
  name: 'majra_pubsub_dropped_total',
  type: 'counter',
  help: 'Messages dropped by full drop-newest subscribers.',
  labelNames: ['hub'],
});

/** Buffered messages overwritten in full `drop-oldest` subscribers (subscriber lag). */
export const PUBSUB_LAGGED = defineMetric({
  name: 'majra_pubsub_lagged_total',
  type: 'counter',
  help: 'Buffered messages overwritten in lagging drop-oldest subscribers.',
  labelNames: ['hub'],
});

/** Active subscriptions (receivers and handlers). */
export const PUBSUB_SUBSCRIPTIONS = defineMetric({
  name: 'majra_pubsub_subscriptions',
  type: 'gauge',
  help: 'Active subscriptions.',
  labelNames: ['hub'],
});

const LABELS: Readonly<Record<PubSubHubKind, MetricLabels>> = Object.freeze({
  typed: Object.freeze({ hub: 'typed' }),
  json: Object.freeze({ hub: 'json' }),
  direct: Object.freeze({ hub: 'direct' }),
  hashed: Object.freeze({ hub: 'hashed' }),
});

/** The shared, frozen label object of a hub kind (no allocation per report). */
export function hubLabels(kind: PubSubHubKind): MetricLabels {
  return LABELS[kind];
}
