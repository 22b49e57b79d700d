import type { MetricDefinition, MetricLabels, MetricsSink } from '../core/metrics.js';

function seriesKey(name: string, labels: MetricLabels | undefined): string {
  if (labels === undefined) return name;
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k] ?? ''}`);
  return parts.length === 0 ? name : `${name}{${parts.join(',')}}`;
}

/**
 * A {@link MetricsSink} that records into maps, for assertions in tests.
 * Series are keyed `name` or `name{label=value,...}` with labels sorted.
 */
export class MemoryMetricsSink implements MetricsSink {
  /** Counter totals by series. */
  readonly counters = new Map<string, number>();
  /** Last gauge value by series. */
  readonly gauges = new Map<string, number>();
  /** Histogram observations by series. */
  readonly histograms = new Map<string, number[]>();
  /** Every definition seen, by name. */
  readonly definitions = new Map<string, MetricDefinition>();

  increment(metric: MetricDefinition, value = 1, labels?: MetricLabels): void {
    this.definitions.set(metric.name, metric);
    const key = seriesKey(metric.name, labels);
    this.counters.set(key, (this.counters.get(key) ?? 0) + value);
  }

  set(metric: MetricDefinition, value: number, labels?: MetricLabels): void {
    this.definitions.set(metric.name, metric);
    this.gauges.set(seriesKey(metric.name, labels), value);
  }

  observe(metric: MetricDefinition, value: number, labels?: MetricLabels): void {
    this.definitions.set(metric.name, metric);
    const key = seriesKey(metric.name, labels);
    const list = this.histograms.get(key) ?? [];
    list.push(value);
    this.histograms.set(key, list);
  }

  /** Counter value for a series, 0 when never incremented. */
  counter(name: string, labels?: MetricLabels): number {
    return this.counters.get(seriesKey(name, labels)) ?? 0;
  }

  /** Gauge value for a series. */
  gauge(name: string, labels?: MetricLabels): number | undefined {
    return this.gauges.get(seriesKey(name, labels));
  }
}
