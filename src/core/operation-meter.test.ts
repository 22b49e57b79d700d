import { describe, expect, it } from 'vitest';
import { defineMetric, labelTable, type MetricLabels, type MetricsSink } from './metrics.js';
import { OperationMeter, operationMeter } from './operation-meter.js';

const OPS = defineMetric({
  name: 'majra_test_operations_total',
  type: 'counter',
  help: 'test',
  labelNames: ['store', 'operation', 'outcome'],
});

describe('OperationMeter', () => {
  it('counts by operation and outcome, reusing one frozen label object per series', () => {
    const seen: MetricLabels[] = [];
    const sink: MetricsSink = {
      increment: (_m, _v, labels) => void seen.push(labels ?? {}),
      set: () => undefined,
      observe: () => undefined,
    };
    const meter = new OperationMeter(sink, OPS, { store: 's' });
    meter.ok('load');
    meter.ok('load');
    meter.conflict('insert');
    meter.error('insert', 3);
    expect(seen[0]).toBe(seen[1]);
    expect(Object.isFrozen(seen[0])).toBe(true);
    expect(seen).toEqual([
      { store: 's', operation: 'load', outcome: 'ok' },
      { store: 's', operation: 'load', outcome: 'ok' },
      { store: 's', operation: 'insert', outcome: 'conflict' },
      { store: 's', operation: 'insert', outcome: 'error' },
    ]);
    expect(operationMeter(undefined, OPS, {})).toBeUndefined();
  });

  it('labelTable builds one frozen object per value', () => {
    const table = labelTable('reason', ['a', 'b']);
    expect(table.a).toEqual({ reason: 'a' });
    expect(Object.isFrozen(table.b)).toBe(true);
  });
});
