import { defineMetric, labelTable, type MetricLabels } from '../core/metrics.js';
import type { DedupVerdict } from './dedup.js';

/** Messages emitted, by kind (send, broadcast, request, reply). */
export const relaySent = defineMetric({
  name: 'majra_relay_messages_sent_total',
  type: 'counter',
  help: 'Relay messages emitted, by kind (send, broadcast, request, reply).',
  labelNames: ['kind'],
});

/** Inbound messages accepted. */
export const relayReceived = defineMetric({
  name: 'majra_relay_messages_received_total',
  type: 'counter',
  help: 'Inbound relay messages accepted after deduplication.',
});

/** Inbound messages dropped, by reason. */
export const relayDropped = defineMetric({
  name: 'majra_relay_messages_dropped_total',
  type: 'counter',
  help: 'Inbound relay messages dropped, by reason (duplicate, stale_epoch, too_old, misdirected_reply, invalid).',
  labelNames: ['reason'],
});

/** Dedup entries evicted, by reason. */
export const relayDedupEvicted = defineMetric({
  name: 'majra_relay_dedup_evicted_total',
  type: 'counter',
  help: 'Relay dedup entries evicted, by reason (capacity, ttl).',
  labelNames: ['reason'],
});

/** Senders currently tracked. */
export const relayDedupEntries = defineMetric({
  name: 'majra_relay_dedup_entries',
  type: 'gauge',
  help: 'Senders tracked in the relay dedup table.',
});

/** Requests awaiting a reply. */
export const relayPendingRequests = defineMetric({
  name: 'majra_relay_pending_requests',
  type: 'gauge',
  help: 'Relay requests awaiting a reply.',
});

/** Requests finished, by outcome. */
export const relayRequests = defineMetric({
  name: 'majra_relay_requests_total',
  type: 'counter',
  help: 'Relay requests finished, by outcome (ok, remote_error, timeout, aborted, evicted, failed, closed).',
  labelNames: ['outcome'],
});

/** Frozen label objects of the relay metrics, built once (no allocation per report). @internal */
export const RELAY_LABELS = Object.freeze({
  kind: labelTable('kind', ['send', 'broadcast', 'request', 'reply']),
  dropped: labelTable('reason', [
    'duplicate',
    'stale_epoch',
    'too_old',
    'misdirected_reply',
    'invalid',
  ]),
  evicted: labelTable('reason', ['capacity', 'ttl']),
  outcome: labelTable('outcome', [
    'ok',
    'remote_error',
    'timeout',
    'aborted',
    'evicted',
    'failed',
    'closed',
  ]),
});

/** A relay send kind. @internal */
export type RelaySendKind = keyof typeof RELAY_LABELS.kind;
/** A relay request outcome. @internal */
export type RelayRequestOutcome = keyof typeof RELAY_LABELS.outcome;

/** The `reason` label of each rejecting dedup verdict. @internal */
export const DROP_LABELS: Readonly<Record<Exclude<DedupVerdict, 'accept'>, MetricLabels>> = {
  duplicate: RELAY_LABELS.dropped.duplicate,
  'stale-epoch': RELAY_LABELS.dropped.stale_epoch,
  'too-old': RELAY_LABELS.dropped.too_old,
};
