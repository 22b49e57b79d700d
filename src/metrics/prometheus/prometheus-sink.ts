import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MetricDefinition, MetricLabels, MetricsSink } from '../../core/metrics.js';
import { positiveInteger } from '../../core/validate.js';

/** Options for {@link PrometheusSink}. */
export interface PrometheusSinkOptions {
  /** Registry to register into. @defaultValue a new private `Registry` */
  readonly registry?: Registry;
  /**
   * Cap on distinct label sets per metric. Observations that would create series beyond
   * it are dropped and counted in `majra_metrics_dropped_series_total`, so a caller that
   * leaks an id into a label cannot grow the registry without limit.
   * @defaultValue 1000
   */
  readonly maxSeriesPerMetric?: number;
  /** Receives errors (a metric reported with conflicting type or labels); never thrown. */
  readonly onError?: (error: Error) => void;
}

type PromMetric =
  | { readonly type: 'counter'; readonly metric: Counter }
  | { readonly type: 'gauge'; readonly metric: Gauge }
  | { readonly type: 'histogram'; readonly metric: Histogram };

interface Entry {
  readonly definition: MetricDefinition;
  readonly prom: PromMetric;
  readonly series: Set<string>;
}

const DEFAULT_BUCKETS = [0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

/**
 * A {@link MetricsSink} backed by prom-client. Each majra metric is registered the
 * first time it is reported, with its declared help text, type and label names.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { PrometheusSink } from 'majra/prometheus';
 * const metrics = new PrometheusSink();
 * const hub = new TypedPubSub({ metrics });
 * createServer(metrics.handler()).listen(9464, '127.0.0.1');
 * ```
 */
export class PrometheusSink implements MetricsSink {
  /** The registry metrics are registered in. */
  readonly registry: Registry;
  readonly #entries = new Map<string, Entry>();
  readonly #maxSeries: number;
  readonly #onError: (error: Error) => void;
  readonly #dropped: Counter;

  /**
   * Creates a sink on `options.registry` or a new prom-client Registry; metrics are registered on
   * first use.
   */
  constructor(options: PrometheusSinkOptions = {}) {
    this.registry = options.registry ?? new Registry();
    this.#maxSeries = positiveInteger('maxSeriesPerMetric', options.maxSeriesPerMetric ?? 1000);
    this.#onError = options.onError ?? (() => undefined);
    this.#dropped = new Counter({
      name: 'majra_metrics_dropped_series_total',
      help: 'Observations dropped because a metric reached maxSeriesPerMetric label sets.',
      labelNames: ['metric'],
      registers: [this.registry],
    });
  }

  /** Adds `value` (default 1) to the counter `metric`, registering it on first use. */
  increment(metric: MetricDefinition, value = 1, labels?: MetricLabels): void {
    this.#guard(() => {
      const prom = this.#entry(metric, 'counter', labels)?.prom;
      if (prom?.type === 'counter') prom.metric.inc(labels ?? {}, value);
    });
  }

  /** Sets the gauge `metric`, registering it on first use. */
  set(metric: MetricDefinition, value: number, labels?: MetricLabels): void {
    this.#guard(() => {
      const prom = this.#entry(metric, 'gauge', labels)?.prom;
      if (prom?.type === 'gauge') prom.metric.set(labels ?? {}, value);
    });
  }

  /** Records one observation of the histogram `metric`, registering it on first use. */
  observe(metric: MetricDefinition, value: number, labels?: MetricLabels): void {
    this.#guard(() => {
      const prom = this.#entry(metric, 'histogram', labels)?.prom;
      if (prom?.type === 'histogram') prom.metric.observe(labels ?? {}, value);
    });
  }

  /** The exposition text of every registered metric. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /** The content type to serve {@link PrometheusSink.metrics} with. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /**
   * A `node:http` request handler serving the exposition at any path it is mounted on
   * (GET and HEAD; other methods get 405).
   */
  handler(): (request: IncomingMessage, response: ServerResponse) => void {
    return (request, response) => {
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      this.metrics().then(
        (text) => {
          response.writeHead(200, { 'content-type': this.contentType });
          response.end(request.method === 'HEAD' ? undefined : text);
        },
        (error: unknown) => {
          this.#onError(error instanceof Error ? error : new Error(String(error)));
          response.writeHead(500).end();
        },
      );
    };
  }

  // A sink must never throw into the primitive reporting to it.
  #guard(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.#onError(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #entry(
    definition: MetricDefinition,
    type: MetricDefinition['type'],
    labels: MetricLabels | undefined,
  ): Entry | undefined {
    let entry = this.#entries.get(definition.name);
    if (entry === undefined) {
      entry = { definition, prom: this.#create(definition), series: new Set() };
      this.#entries.set(definition.name, entry);
    }
    if (entry.definition.type !== type) {
      throw new Error(
        `metric ${definition.name} is a ${entry.definition.type}, reported as a ${type}`,
      );
    }
    const allowed = entry.definition.labelNames ?? [];
    for (const name of Object.keys(labels ?? {})) {
      if (!allowed.includes(name)) {
        throw new Error(`metric ${definition.name} has no label ${JSON.stringify(name)}`);
      }
    }
    const key = labels === undefined ? '' : JSON.stringify(Object.entries(labels).sort());
    if (!entry.series.has(key)) {
      if (entry.series.size >= this.#maxSeries) {
        this.#dropped.inc({ metric: definition.name });
        return undefined;
      }
      entry.series.add(key);
    }
    return entry;
  }

  #create(definition: MetricDefinition): PromMetric {
    const common = {
      name: definition.name,
      help: definition.help,
      labelNames: [...(definition.labelNames ?? [])],
      registers: [this.registry],
    };
    switch (definition.type) {
      case 'counter':
        return { type: 'counter', metric: new Counter(common) };
      case 'gauge':
        return { type: 'gauge', metric: new Gauge(common) };
      case 'histogram':
        return {
          type: 'histogram',
          metric: new Histogram({
            ...common,
            buckets: [...(definition.buckets ?? DEFAULT_BUCKETS)],
          }),
        };
    }
  }
}
