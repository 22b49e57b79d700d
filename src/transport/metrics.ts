import { defineMetric } from '../core/metrics.js';

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
