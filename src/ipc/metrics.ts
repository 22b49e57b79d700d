/**
 * Metric definitions reported by the IPC module. Labels are bounded: `layer` is
 * `plain` or `encrypted`, `kind` is one of {@link IpcErrorKind}, `side` is `accepted`,
 * `dialed` or `rejected`.
 *
 * @module
 */
import { defineMetric, type MetricLabels } from '../core/metrics.js';

/** Frames written, by layer. */
export const IPC_FRAMES_SENT = defineMetric({
  name: 'majra_ipc_frames_sent_total',
  type: 'counter',
  help: 'IPC frames written to the socket.',
  labelNames: ['layer'],
});

/** Frames received, by layer. */
export const IPC_FRAMES_RECEIVED = defineMetric({
  name: 'majra_ipc_frames_received_total',
  type: 'counter',
  help: 'IPC frames received and decoded.',
  labelNames: ['layer'],
});

/** Bytes written (plain: header + body on the wire; encrypted: plaintext bytes). */
export const IPC_BYTES_SENT = defineMetric({
  name: 'majra_ipc_bytes_sent_total',
  type: 'counter',
  help: 'IPC bytes sent (plain layer: wire bytes; encrypted layer: plaintext bytes).',
  labelNames: ['layer'],
});

/** Bytes received (plain: header + body on the wire; encrypted: plaintext bytes). */
export const IPC_BYTES_RECEIVED = defineMetric({
  name: 'majra_ipc_bytes_received_total',
  type: 'counter',
  help: 'IPC bytes received (plain layer: wire bytes; encrypted layer: plaintext bytes).',
  labelNames: ['layer'],
});

/** The bounded set of error kinds counted by {@link IPC_ERRORS}. */
export type IpcErrorKind =
  | 'frame_too_large'
  | 'truncated'
  | 'io'
  | 'malformed'
  | 'handshake_failed'
  | 'auth_failed'
  | 'unexpected_counter'
  | 'bad_frame'
  | 'nonce_exhausted'
  | 'rekey_failed';

/** Errors by kind. */
export const IPC_ERRORS = defineMetric({
  name: 'majra_ipc_errors_total',
  type: 'counter',
  help: 'IPC errors by kind.',
  labelNames: ['kind'],
});

/** Connections accepted, dialed, or rejected because the accept queue was full. */
export const IPC_CONNECTIONS = defineMetric({
  name: 'majra_ipc_connections_total',
  type: 'counter',
  help: 'IPC connections accepted, dialed, or rejected (accept queue full).',
  labelNames: ['side'],
});

/** Completed rekeys of encrypted connections. */
export const IPC_REKEYS = defineMetric({
  name: 'majra_ipc_rekeys_total',
  type: 'counter',
  help: 'Completed in-band rekeys of encrypted IPC connections.',
});

/** Nonce-counter warnings (a direction key reached the warning threshold). */
export const IPC_NONCE_WARNINGS = defineMetric({
  name: 'majra_ipc_nonce_warnings_total',
  type: 'counter',
  help: 'Encrypted IPC keys that reached the message-count warning threshold.',
});

const KIND_BY_CODE: Readonly<Record<string, IpcErrorKind>> = {
  ERR_IPC_FRAME_TOO_LARGE: 'frame_too_large',
  ERR_IPC_FRAME_TRUNCATED: 'truncated',
  ERR_IPC_IO: 'io',
  ERR_CODEC_MALFORMED: 'malformed',
  ERR_IPC_HANDSHAKE_FAILED: 'handshake_failed',
  ERR_IPC_AUTH_FAILED: 'auth_failed',
  ERR_IPC_UNEXPECTED_COUNTER: 'unexpected_counter',
  ERR_IPC_BAD_FRAME: 'bad_frame',
  ERR_IPC_NONCE_EXHAUSTED: 'nonce_exhausted',
  ERR_IPC_REKEY_FAILED: 'rekey_failed',
};

/** Maps an error code to its metric kind, or undefined for codes not counted. */
export function errorKind(code: string): IpcErrorKind | undefined {
  return KIND_BY_CODE[code];
}

const LABELS_BY_CODE: ReadonlyMap<string, MetricLabels> = new Map(
  Object.entries(KIND_BY_CODE).map(([code, kind]) => [code, Object.freeze({ kind })]),
);

/** The frozen `{ kind }` labels of an error code (no allocation per report), or undefined. */
export function errorLabels(code: string): MetricLabels | undefined {
  return LABELS_BY_CODE.get(code);
}
