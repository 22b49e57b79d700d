/**
 * Prometheus adapter: a `MetricsSink` backed by prom-client (an optional peer dependency)
 * and a `/metrics` request handler.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { PrometheusSink } from 'majra/prometheus';
 *
 * const metrics = new PrometheusSink();
 * createServer(metrics.handler()).listen(9464, '127.0.0.1');
 * ```
 *
 * @module
 */
export { PrometheusSink } from './prometheus-sink.js';
export type { PrometheusSinkOptions } from './prometheus-sink.js';
