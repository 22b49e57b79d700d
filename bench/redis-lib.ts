// Helpers shared by the Redis bench rows (redis.bench.ts and the stream rows in
// redis-streams.ts): the Redis to measure, paced throughput, and repeated or alternated
// samples. Not a *.bench.ts file, so bench/run.ts does not run it as an area.
import { median, spread } from './lib.js';

/** The Redis every row measures: REDIS_URL, or the local default. */
export const URL_ = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
// Progress on stderr when BENCH_VERBOSE is set.
const log = (...args: unknown[]): void => {
  if (process.env['BENCH_VERBOSE'] !== undefined) console.error(...args);
};

/** Runs `total` calls of `fn` with `inFlight` outstanding at a time; returns ops/s. */
export async function throughput(
  total: number,
  inFlight: number,
  fn: (i: number) => Promise<unknown>,
) {
  let next = 0;
  const start = performance.now();
  const lane = async (): Promise<void> => {
    while (next < total) await fn(next++);
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return total / ((performance.now() - start) / 1000);
}

let stage = 0;
/** Runs `fn` `times` times; returns the median and spread of what it returned. */
export async function repeat(times: number, fn: () => Promise<number>) {
  const label = `stage ${stage++}`;
  const values: number[] = [];
  for (let i = 0; i < times; i++) {
    values.push(await fn());
    log(label, i, Math.round(values[i] ?? 0));
  }
  return { value: median(values), spread: spread(values) };
}

/** Medians and spreads of `fns`, run alternately `runs` times (so load drifts hit all alike). */
export async function alternate<K extends string>(
  runs: number,
  fns: Record<K, () => Promise<number>>,
) {
  const values = {} as Record<K, number[]>;
  for (let r = 0; r < runs; r++) {
    for (const key of Object.keys(fns) as K[]) (values[key] ??= []).push(await fns[key]());
  }
  const out = {} as Record<K, { value: number; spread: number }>;
  for (const key of Object.keys(fns) as K[]) {
    out[key] = { value: median(values[key]), spread: spread(values[key]) };
  }
  return out;
}
