import { defineMetric } from '../../core/metrics.js';

/** Open WebSocket client connections. */
export const WS_CONNECTIONS = defineMetric({
  name: 'majra_ws_connections',
  type: 'gauge',
  help: 'Open WebSocket bridge client connections.',
});

/** Messages sent to clients. */
export const WS_SENT = defineMetric({
  name: 'majra_ws_messages_sent_total',
  type: 'counter',
  help: 'Hub messages sent to WebSocket clients.',
});

/** Messages not sent to slow clients, by reason (`slow` dropped, `disconnect` closed). */
export const WS_DROPPED = defineMetric({
  name: 'majra_ws_messages_dropped_total',
  type: 'counter',
  help: 'Messages not delivered because a client was over its send high-water mark.',
  labelNames: ['reason'],
});

/** Upgrade requests refused, by reason (capacity, auth, timeout, path, closing). */
export const WS_REJECTED = defineMetric({
  name: 'majra_ws_rejected_connections_total',
  type: 'counter',
  help: 'WebSocket upgrade requests refused.',
  labelNames: ['reason'],
});

/** Protocol errors answered. */
export const WS_PROTOCOL_ERRORS = defineMetric({
  name: 'majra_ws_protocol_errors_total',
  type: 'counter',
  help: 'Malformed or refused client frames.',
});
