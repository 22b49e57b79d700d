import { defineMetric, type MetricLabels } from '../core/metrics.js';

/** Circuit breaker state changes, by target state. */
export const circuitTransitions = defineMetric({
  name: 'majra_transport_circuit_transitions_total',
  type: 'counter',
  help: 'Circuit breaker state changes, by the state entered.',
  labelNames: ['to'],
});

/** Calls refused by an open circuit. */
export const circuitRejected = defineMetric({
  name: 'majra_transport_circuit_rejected_total',
  type: 'counter',
  help: 'Calls refused without running because a circuit breaker was open.',
});

/** Connections dialled by a pool, by outcome. */
export const poolDials = defineMetric({
  name: 'majra_transport_pool_dials_total',
  type: 'counter',
  help: 'Connections dialled by a connection pool, by outcome (ok, error).',
  labelNames: ['outcome'],
});

/** Connections removed from a pool, by reason. */
export const poolEvictions = defineMetric({
  name: 'majra_transport_pool_evictions_total',
  type: 'counter',
  help: 'Connections removed from a connection pool, by reason (idle, stale, failed, closed).',
  labelNames: ['reason'],
});

/** Connections currently pooled. */
export const poolConnections = defineMetric({
  name: 'majra_transport_pool_connections',
  type: 'gauge',
  help: 'Connections currently held by a connection pool.',
});

/** Frames refused by a socket transport, by reason. */
export const transportProtocolErrors = defineMetric({
  name: 'majra_transport_protocol_errors_total',
  type: 'counter',
  help: 'Inbound frames refused by a transport, by reason (too_large, truncated, malformed).',
  labelNames: ['reason'],
});

/** Messages sent on a transport connection, by transport kind. */
export const transportMessagesSent = defineMetric({
  name: 'majra_transport_messages_sent_total',
  type: 'counter',
  help: 'Messages sent on transport connections, by transport (memory, unix, tcp).',
  labelNames: ['transport'],
});

/** Messages received on a transport connection, by transport kind. */
export const transportMessagesReceived = defineMetric({
  name: 'majra_transport_messages_received_total',
  type: 'counter',
  help: 'Messages received and decoded on transport connections, by transport (memory, unix, tcp).',
  labelNames: ['transport'],
});

/** Connections opened, by transport kind and side. */
export const transportConnections = defineMetric({
  name: 'majra_transport_connections_total',
  type: 'counter',
  help: 'Transport connections opened, by transport (memory, unix, tcp) and side (dialed, accepted).',
  labelNames: ['transport', 'side'],
});

/** Which transport reported a series. @internal */
export type TransportKind = 'memory' | 'unix' | 'tcp';

/** The frozen label objects of one transport kind, built once (no allocation per report). @internal */
export interface TransportLabels {
  readonly transport: MetricLabels;
  readonly dialed: MetricLabels;
  readonly accepted: MetricLabels;
}

function labelsOf(transport: TransportKind): TransportLabels {
  return Object.freeze({
    transport: Object.freeze({ transport }),
    dialed: Object.freeze({ transport, side: 'dialed' }),
    accepted: Object.freeze({ transport, side: 'accepted' }),
  });
}

/** @internal */
export const TRANSPORT_LABELS: Readonly<Record<TransportKind, TransportLabels>> = Object.freeze({
  memory: labelsOf('memory'),
  unix: labelsOf('unix'),
  tcp: labelsOf('tcp'),
});

/** Frozen `reason` labels of {@link transportProtocolErrors}. @internal */
export const PROTOCOL_ERROR_LABELS = Object.freeze({
  too_large: Object.freeze({ reason: 'too_large' }),
  truncated: Object.freeze({ reason: 'truncated' }),
  malformed: Object.freeze({ reason: 'malformed' }),
});
