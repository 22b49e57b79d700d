import type { MetricDefinition, MetricLabels, MetricsSink } from './metrics.js';

/**
 * Counts a component's operations by name and outcome (`ok`, `conflict` for a
 * compare-and-set the store refused, or `error`) into one counter
 * labelled `{ ...base, operation, outcome }`. Label objects are built on the first report
 * of each operation and reused, so steady-state reporting allocates nothing. Operation
 * names come from the component's code, never from input, so series stay bounded.
 *
 * @internal
 */
export class OperationMeter {
  readonly #sink: MetricsSink;
  readonly #metric: MetricDefinition;
  readonly #base: MetricLabels;
  readonly #ok = new Map<string, MetricLabels>();
  readonly #conflict = new Map<string, MetricLabels>();
  readonly #error = new Map<string, MetricLabels>();

  constructor(sink: MetricsSink, metric: MetricDefinition, base: MetricLabels) {
    this.#sink = sink;
    this.#metric = metric;
    this.#base = base;
  }

  /** Counts `count` successful `operation`s. */
  ok(operation: string, count = 1): void {
    this.#sink.increment(this.#metric, count, this.#labels(this.#ok, operation, 'ok'));
  }

  /** Counts an `operation` refused because the stored state did not match. */
  conflict(operation: string): void {
    this.#sink.increment(this.#metric, 1, this.#labels(this.#conflict, operation, 'conflict'));
  }

  /** Counts `count` failed `operation`s. */
  error(operation: string, count = 1): void {
    this.#sink.increment(this.#metric, count, this.#labels(this.#error, operation, 'error'));
  }

  #labels(cache: Map<string, MetricLabels>, operation: string, outcome: string): MetricLabels {
    let labels = cache.get(operation);
    if (labels === undefined) {
      labels = Object.freeze({ ...this.#base, operation, outcome });
      cache.set(operation, labels);
    }
    return labels;
  }
}

/** An {@link OperationMeter} when a sink was given, else `undefined` (nothing to call). @internal */
export function operationMeter(
  sink: MetricsSink | undefined,
  metric: MetricDefinition,
  base: MetricLabels,
): OperationMeter | undefined {
  return sink === undefined ? undefined : new OperationMeter(sink, metric, base);
}
