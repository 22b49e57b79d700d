// Shared shape of every bench/<area>.bench.ts. Each file exports `run(options)` that
// measures majra and its peers IN THE SAME PROCESS RUN and returns rows; bench/run.ts
// collects them into bench/RESULTS.md. Figures come only from measurement.
import { Bench } from 'tinybench';

/** One compared figure. Higher is better unless `lowerIsBetter`. */
export interface BenchRow {
  /** What is measured, e.g. 'TypedPubSub exact topic, 1 handler'. */
  readonly name: string;
  /** Unit of `majra` and `peer`, e.g. 'msg/s', 'ms', 'bytes/key'. */
  readonly unit: string;
  /** majra's median figure. */
  readonly majra: number;
  /** Relative spread of majra's samples (e.g. 0.03 for ±3 %), when known. */
  readonly spread?: number;
  /** The baseline measured in the same run (peer library or raw driver). */
  readonly peer?: { readonly name: string; readonly value: number; readonly spread?: number };
  /** Target as a ratio majra/peer (or peer/majra when lowerIsBetter), e.g. 1.2. */
  readonly targetRatio?: number;
  /**
   * Absolute target on `majra` itself, in `unit` (e.g. 5 for '<= 5 ms'): met when
   * `majra <= targetValue` for `lowerIsBetter` rows, `majra >= targetValue` otherwise.
   */
  readonly targetValue?: number;
  /** The target as written in the issue, for the report. */
  readonly target?: string;
  readonly lowerIsBetter?: boolean;
}

export interface BenchOptions {
  /** Prove the bench still runs: tiny iteration counts, figures meaningless. */
  readonly quick: boolean;
}

export interface BenchReport {
  readonly area: string;
  readonly rows: readonly BenchRow[];
  readonly notes?: readonly string[];
}

export type BenchModule = { run(options: BenchOptions): Promise<BenchReport> };

/**
 * Runs `tasks` with tinybench and returns ops/s medians and relative spread per task
 * name. Every task runs in the same Bench, interleaved in one process.
 */
export async function measure(
  tasks: Record<string, () => unknown>,
  options: BenchOptions & { readonly timeMs?: number },
): Promise<Map<string, { hz: number; spread: number }>> {
  const bench = new Bench({
    time: options.quick ? 20 : (options.timeMs ?? 1000),
    iterations: options.quick ? 5 : 10,
    warmup: !options.quick,
  });
  for (const [name, fn] of Object.entries(tasks)) bench.add(name, fn);
  await bench.run();
  const out = new Map<string, { hz: number; spread: number }>();
  for (const task of bench.tasks) {
    const result = task.result;
    if (result.state !== 'completed') throw new Error(`bench task ${task.name} did not complete`);
    out.set(task.name, {
      hz: result.throughput.p50,
      spread: result.throughput.rme / 100,
    });
  }
  return out;
}

/** Median of numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Percentile p (0..100) of numbers. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

/** Relative spread: (max - min) / median. */
export function spread(values: readonly number[]): number {
  if (values.length === 0) return 0;
  return (Math.max(...values) - Math.min(...values)) / median(values);
}

/**
 * Measures `tasks` in alternating rounds (task A for `roundMs`, then task B, ... repeated
 * `rounds` times) and returns per task the median calls/s over the rounds and their
 * relative spread. Use it when the figures depend on a shared resource whose speed drifts
 * (fsync latency, a loaded machine): a baseline measured seconds apart from majra would
 * compare two different machines. One discarded warm-up round runs first (not in quick).
 */
export async function measureAlternating(
  tasks: Record<string, () => unknown>,
  options: BenchOptions & { readonly rounds?: number; readonly roundMs?: number },
): Promise<Map<string, { hz: number; spread: number }>> {
  const rounds = options.quick ? 1 : (options.rounds ?? 7);
  const roundMs = options.quick ? 20 : (options.roundMs ?? 300);
  const rates = new Map<string, number[]>(Object.keys(tasks).map((name) => [name, []]));
  for (let round = options.quick ? 0 : -1; round < rounds; round++) {
    for (const [name, fn] of Object.entries(tasks)) {
      let calls = 0;
      const start = performance.now();
      let elapsed: number;
      do {
        await fn();
        calls++;
        elapsed = performance.now() - start;
      } while (elapsed < roundMs);
      if (round >= 0) rates.get(name)?.push((calls * 1000) / elapsed);
    }
  }
  const out = new Map<string, { hz: number; spread: number }>();
  for (const [name, values] of rates) out.set(name, { hz: median(values), spread: spread(values) });
  return out;
}
