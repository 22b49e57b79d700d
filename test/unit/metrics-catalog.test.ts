// Every metric definition follows the naming rules, PrometheusSink registers and exposes
// all of them, and docs/prometheus.md lists exactly them.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { MetricLabels } from '../../src/core/metrics.js';
import { PrometheusSink } from '../../src/metrics/prometheus/index.js';
import {
  METRIC_MODULES,
  PROMETHEUS_DOC,
  metricCatalog,
  renderMetricsTable,
  tableRows,
} from '../../scripts/metrics-doc.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The `<area>` each metrics.ts must use (its folder, or the backend/bridge name). */
const AREA_OF: Readonly<Record<string, string>> = {
  'src/backends/postgres/metrics.ts': 'postgres',
  'src/backends/redis/metrics.ts': 'redis',
  'src/backends/sqlite/metrics.ts': 'sqlite',
  'src/bridges/ws/metrics.ts': 'ws',
};

function metricFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) metricFiles(path, out);
    else if (name === 'metrics.ts') out.push(relative(ROOT, path));
  }
  return out;
}

/** `majra_<area>_<thing>_<unit>`: lower-case words, at least three. */
const NAME = /^majra_[a-z]+(_[a-z0-9]+)+$/;
const HISTOGRAM_UNITS = /_(seconds|ms|bytes)$/;

describe('metric definitions', () => {
  it('the catalog covers every src/**/metrics.ts (add new ones to scripts/metrics-doc.ts)', () => {
    const files = metricFiles(join(ROOT, 'src')).filter((f) => f !== 'src/core/metrics.ts');
    expect(Object.keys(METRIC_MODULES).sort()).toEqual(files.sort());
  });

  it('names follow majra_<area>_<thing>_<unit> with the module area and bounded label names', () => {
    const problems: string[] = [];
    for (const [file, module] of Object.entries(METRIC_MODULES)) {
      const area = AREA_OF[file] ?? file.split('/')[1];
      const defs = metricCatalog().filter((m) => Object.values(module).includes(m));
      expect(defs.length, file).toBeGreaterThan(0);
      for (const m of defs) {
        if (!NAME.test(m.name)) problems.push(`${m.name}: not majra_<area>_<thing>_<unit>`);
        if (!m.name.startsWith(`majra_${area}_`)) problems.push(`${m.name}: area is not ${area}`);
        if (m.type === 'counter' && !m.name.endsWith('_total')) {
          problems.push(`${m.name}: a counter must end in _total`);
        }
        if (m.type !== 'counter' && m.name.endsWith('_total')) {
          problems.push(`${m.name}: only counters end in _total`);
        }
        if (m.type === 'histogram' && !HISTOGRAM_UNITS.test(m.name)) {
          problems.push(`${m.name}: a histogram name ends in its unit`);
        }
        if (m.help.trim() === '') problems.push(`${m.name}: empty help`);
        for (const label of m.labelNames ?? []) {
          if (!/^[a-z][a-z_]*$/.test(label) || /(^|_)(id|key|topic|name|path)$/.test(label)) {
            problems.push(`${m.name}: label ${label} looks unbounded`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('PrometheusSink registers every metric and the exposition parses', async () => {
    const registry = new Registry();
    const errors: Error[] = [];
    const sink = new PrometheusSink({ registry, onError: (e) => errors.push(e) });
    const catalog = metricCatalog();
    for (const m of catalog) {
      const labels: MetricLabels = Object.fromEntries((m.labelNames ?? []).map((l) => [l, 'x']));
      if (m.type === 'counter') sink.increment(m, 2, labels);
      else if (m.type === 'gauge') sink.set(m, 3, labels);
      else sink.observe(m, 0.5, labels);
    }
    expect(errors).toEqual([]);
    const text = await sink.metrics();
    const types = new Map<string, string>();
    const samples = new Map<string, number[]>();
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram)$/.exec(line);
      if (type !== null) {
        types.set(type[1] as string, type[2] as string);
        continue;
      }
      if (line.startsWith('# HELP ')) continue;
      const sample =
        /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (\S+)$/.exec(
          line,
        );
      expect(sample, line).not.toBeNull();
      const name = (sample as RegExpExecArray)[1] as string;
      const value = Number((sample as RegExpExecArray)[4]);
      expect(Number.isNaN(value), line).toBe(false);
      samples.set(name, [...(samples.get(name) ?? []), value]);
    }
    for (const m of catalog) {
      expect(types.get(m.name), m.name).toBe(m.type);
      if (m.type === 'histogram') {
        expect(samples.get(`${m.name}_count`), m.name).toEqual([1]);
      } else {
        expect(samples.get(m.name), m.name).toEqual([m.type === 'counter' ? 2 : 3]);
      }
    }
  });

  it('docs/prometheus.md lists every metric (run `npm run docs:metrics` when this fails)', () => {
    const page = readFileSync(PROMETHEUS_DOC, 'utf8');
    expect(tableRows(page)).toEqual(tableRows(renderMetricsTable()));
  });
});
