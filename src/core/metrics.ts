/**
 * The metrics port. Every primitive reports through a `MetricsSink` passed as the
 * `metrics` option; the default discards everything at the cost of one call. The
 * Prometheus adapter (`majra/prometheus`) implements this interface.
 *
 * Metric names follow `majra_<area>_<thing>_<unit>`; label values are always drawn from
 * a small fixed set (never an id or a raw topic) so series stay bounded.
 *
 * @module
 */

/** Label values of one observation. Keys must match the definition's `labelNames`. */
export type MetricLabels = Readonly<Record<string, string>>;

/** Static description of a metric, declared once by the module that reports it. */
export interface MetricDefinition {
  /** Metric name, `majra_<area>_<thing>_<unit>`. */
  readonly name: string;
  /** How observations combine: counters add, gauges are set, histograms bucket. */
  readonly type: 'counter' | 'gauge' | 'histogram';
  /** One-line description shown by exporters (Prometheus `# HELP`). */
  readonly help: string;
  /** Names of the labels every observation carries, each from a small fixed set of values. */
  readonly labelNames?: readonly string[];
  /** Histogram buckets, in the metric's unit. */
  readonly buckets?: readonly number[];
}

/** Receives metric observations. Implementations must not throw. */
export interface MetricsSink {
  /** Adds `value` (default 1) to a counter. */
  increment(metric: MetricDefinition, value?: number, labels?: MetricLabels): void;
  /** Sets a gauge. */
  set(metric: MetricDefinition, value: number, labels?: MetricLabels): void;
  /** Records one histogram observation. */
  observe(metric: MetricDefinition, value: number, labels?: MetricLabels): void;
}

/** A sink that discards everything. */
export const noopMetrics: MetricsSink = Object.freeze({
  increment: () => undefined,
  set: () => undefined,
  observe: () => undefined,
});

/** Declares a metric; a typed identity helper that keeps definitions readonly. */
export function defineMetric<const M extends MetricDefinition>(metric: M): M {
  return Object.freeze(metric);
}

/**
 * Frozen `{ [key]: value }` label objects, one per value, built once so that reporting
 * allocates nothing per call. Values must be a small fixed set.
 *
 * @internal
 */
export function labelTable<const V extends string>(
  key: string,
  values: readonly V[],
): Readonly<Record<V, MetricLabels>> {
  const table = {} as Record<V, MetricLabels>;
  for (const value of values) table[value] = Object.freeze({ [key]: value });
  return Object.freeze(table);
}
