import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { defineMetric } from '../../core/metrics.js';
import { PrometheusSink } from './prometheus-sink.js';

const published = defineMetric({
  name: 'majra_pubsub_published_total',
  type: 'counter',
  help: 'Messages published.',
  labelNames: ['hub'],
});
const depth = defineMetric({ name: 'majra_queue_depth', type: 'gauge', help: 'Queued jobs.' });
const latency = defineMetric({
  name: 'majra_relay_request_duration_ms',
  type: 'histogram',
  help: 'Request latency.',
  buckets: [1, 10, 100],
});

/** Parses the text exposition into `series -> value` (enough to check our output). */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

describe('PrometheusSink', () => {
  it('registers on first use and is scraped over real HTTP', async () => {
    const sink = new PrometheusSink();
    sink.increment(published, 1, { hub: 'typed' });
    sink.increment(published, 2, { hub: 'typed' });
    sink.increment(published, 1, { hub: 'json' });
    sink.set(depth, 7);
    sink.observe(latency, 5);
    sink.observe(latency, 50);

    const server = createServer(sink.handler()).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    try {
      const response = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/plain');
      const text = await response.text();
      expect(text).toContain('# HELP majra_pubsub_published_total Messages published.');
      expect(text).toContain('# TYPE majra_relay_request_duration_ms histogram');
      const series = parse(text);
      expect(series.get('majra_pubsub_published_total{hub="typed"}')).toBe(3);
      expect(series.get('majra_pubsub_published_total{hub="json"}')).toBe(1);
      expect(series.get('majra_queue_depth')).toBe(7);
      expect(series.get('majra_relay_request_duration_ms_bucket{le="10"}')).toBe(1);
      expect(series.get('majra_relay_request_duration_ms_count')).toBe(2);
      expect(series.get('majra_relay_request_duration_ms_sum')).toBe(55);

      const post = await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST' });
      expect(post.status).toBe(405);
    } finally {
      server.close();
    }
  });

  it('caps label sets per metric and counts what it dropped', async () => {
    const sink = new PrometheusSink({ maxSeriesPerMetric: 3 });
    for (let i = 0; i < 100; i++) sink.increment(published, 1, { hub: `leak-${i}` });
    sink.increment(published, 1, { hub: 'leak-0' }); // existing series still counts
    const series = parse(await sink.metrics());
    const kept = [...series.keys()].filter((k) => k.startsWith('majra_pubsub_published_total{'));
    expect(kept).toHaveLength(3);
    expect(series.get('majra_pubsub_published_total{hub="leak-0"}')).toBe(2);
    expect(
      series.get('majra_metrics_dropped_series_total{metric="majra_pubsub_published_total"}'),
    ).toBe(97);
  });

  it('reports conflicting use to onError and never throws', async () => {
    const errors: Error[] = [];
    const sink = new PrometheusSink({ onError: (e) => errors.push(e) });
    sink.increment(published, 1, { hub: 'a' });
    expect(() => sink.set(published, 1)).not.toThrow();
    expect(() => sink.increment(published, 1, { wrong: 'label' })).not.toThrow();
    expect(errors.map((e) => e.message)).toEqual([
      'metric majra_pubsub_published_total is a counter, reported as a gauge',
      expect.stringContaining('label'),
    ]);
  });

  it('validates options', () => {
    expect(() => new PrometheusSink({ maxSeriesPerMetric: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});
