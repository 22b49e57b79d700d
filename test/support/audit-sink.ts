// The recording MetricsSink of the in-memory metrics audit
// (test/unit/metrics-audit-memory.test.ts): it records like MemoryMetricsSink and checks
// every call against the metric catalog.
import { expect } from 'vitest';
import type { MetricDefinition, MetricLabels, MetricsSink } from '../../src/core/metrics.js';
import { MemoryMetricsSink } from '../../src/testing/index.js';
import { metricCatalog } from '../../scripts/metrics-doc.js';

/**
 * A recording sink that also checks each observation against the declarations: the
 * definition is in the catalog, the call matches its type, and the label names are
 * exactly the declared ones (prom-client refuses anything else).
 */
export class AuditSink implements MetricsSink {
  readonly memory = new MemoryMetricsSink();
  readonly names = new Set<string>();
  readonly problems: string[] = [];
  static readonly #catalog = new Map(metricCatalog().map((m) => [m.name, m]));

  increment(metric: MetricDefinition, value?: number, labels?: MetricLabels): void {
    this.#check(metric, 'counter', labels);
    this.memory.increment(metric, value, labels);
  }

  set(metric: MetricDefinition, value: number, labels?: MetricLabels): void {
    this.#check(metric, 'gauge', labels);
    this.memory.set(metric, value, labels);
  }

  observe(metric: MetricDefinition, value: number, labels?: MetricLabels): void {
    this.#check(metric, 'histogram', labels);
    this.memory.observe(metric, value, labels);
  }

  /** Asserts every expected name was observed and nothing was reported wrongly. */
  expectReported(...names: string[]): void {
    expect(this.problems).toEqual([]);
    for (const name of names) expect([...this.names], name).toContain(name);
  }

  #check(metric: MetricDefinition, type: string, labels: MetricLabels | undefined): void {
    this.names.add(metric.name);
    const declared = AuditSink.#catalog.get(metric.name);
    if (declared !== metric) this.problems.push(`${metric.name}: not a catalogued definition`);
    if (metric.type !== type)
      this.problems.push(`${metric.name}: ${type} call on a ${metric.type}`);
    const got = Object.keys(labels ?? {}).sort();
    const want = [...(metric.labelNames ?? [])].sort();
    if (got.join() !== want.join()) {
      this.problems.push(`${metric.name}: labels [${got.join()}], declared [${want.join()}]`);
    }
  }
}
