// Memory sampling and the leak verdict of the soak run.
//
// Every second the sampler forces a full GC (node --expose-gc) and reads heapUsed,
// external and RSS. A leak shows as live memory that keeps growing after warm-up; noise
// (objects in flight at the sampling instant, buffers, GC timing on a loaded machine)
// shows as scatter around a plateau. The verdict therefore needs BOTH:
//  - a robust trend: the Theil-Sen slope (median of all pairwise slopes, insensitive to
//    outliers) of the post-warm-up samples above `maxSlopeBytesPerSec`, and
//  - a real rise: the median of the last quarter of the post-warm-up samples above the
//    median of its first quarter by more than `minGrowthBytes` and `minGrowthRatio`
//    of that plateau.
// A leak of `s` bytes/s over a post-warm-up window of `T` s raises the end plateau by
// about 0.75·s·T, so with the defaults (16 KiB/s, 4 MiB) a 60-second CI run catches any
// leak above ~115 KiB/s and an hour-long run any leak above 16 KiB/s (~56 MiB/hour).
// Measured on the 2-core machine: healthy runs show 1-5 KiB/s after a few minutes (JIT
// code and metadata, per heap snapshots) and at most ~40 KiB/s with < 1.5 MiB of growth
// in 60-second runs; retaining each handled message/job (--inject-leak --leak-padding 0)
// grows ~800 KiB/s.

/** One sample, taken right after a forced GC. */
export interface MemorySample {
  /** Seconds since the measured period started. */
  readonly t: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly rss: number;
}

/** Thresholds of the verdict; defaults in {@link DEFAULT_LEAK_CRITERIA}. */
export interface LeakCriteria {
  /** Fraction of the run treated as warm-up (and at least `minWarmupSeconds`). */
  readonly warmupFraction: number;
  readonly minWarmupSeconds: number;
  readonly maxWarmupSeconds: number;
  readonly maxSlopeBytesPerSec: number;
  readonly minGrowthBytes: number;
  readonly minGrowthRatio: number;
  /** Looser limits for RSS, which includes allocator fragmentation and native memory. */
  readonly rssMaxSlopeBytesPerSec: number;
  readonly rssMinGrowthBytes: number;
}

export const DEFAULT_LEAK_CRITERIA: LeakCriteria = {
  warmupFraction: 0.2,
  minWarmupSeconds: 2,
  maxWarmupSeconds: 300,
  maxSlopeBytesPerSec: 16 * 1024,
  minGrowthBytes: 4 * 1024 * 1024,
  minGrowthRatio: 0.1,
  rssMaxSlopeBytesPerSec: 256 * 1024,
  rssMinGrowthBytes: 64 * 1024 * 1024,
};

/** Statistics of one series over the post-warm-up samples. */
export interface SeriesStats {
  readonly min: number;
  readonly max: number;
  /** Theil-Sen slope, bytes per second. */
  readonly slope: number;
  /** Median of the first quarter of the post-warm-up samples. */
  readonly plateau: number;
  /** Median of the last quarter. */
  readonly final: number;
}

export interface MemoryVerdict {
  readonly warmupSeconds: number;
  readonly samples: number;
  /** heapUsed + external (JS objects plus Buffers / typed arrays). */
  readonly heap: SeriesStats;
  readonly rss: SeriesStats;
  readonly failures: readonly string[];
}

function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Theil-Sen estimator: median of the slopes between every pair of points. */
export function theilSenSlope(t: readonly number[], y: readonly number[]): number {
  // Beyond ~400 points the pairs get many: subsample evenly (an hour has 3600 samples).
  const step = Math.max(1, Math.ceil(t.length / 400));
  const slopes: number[] = [];
  for (let i = 0; i < t.length; i += step) {
    for (let j = i + step; j < t.length; j += step) {
      const dt = t[j]! - t[i]!;
      if (dt > 0) slopes.push((y[j]! - y[i]!) / dt);
    }
  }
  return median(slopes);
}

function seriesStats(t: readonly number[], y: readonly number[]): SeriesStats {
  const quarter = Math.max(1, Math.floor(y.length / 4));
  return {
    min: Math.min(...y),
    max: Math.max(...y),
    slope: theilSenSlope(t, y),
    plateau: median(y.slice(0, quarter)),
    final: median(y.slice(-quarter)),
  };
}

/** Warm-up length for a run of `seconds`. */
export function warmupSeconds(seconds: number, criteria = DEFAULT_LEAK_CRITERIA): number {
  return Math.min(
    criteria.maxWarmupSeconds,
    Math.max(criteria.minWarmupSeconds, Math.round(seconds * criteria.warmupFraction)),
  );
}

const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MiB`;
const kibs = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB/s`;

/** Judges the samples of a run of `seconds`. */
export function judgeMemory(
  samples: readonly MemorySample[],
  seconds: number,
  criteria: LeakCriteria = DEFAULT_LEAK_CRITERIA,
): MemoryVerdict {
  const warmup = warmupSeconds(seconds, criteria);
  const post = samples.filter((s) => s.t >= warmup);
  const failures: string[] = [];
  if (post.length < 4) {
    failures.push(`memory: only ${post.length} samples after a ${warmup} s warm-up (need 4)`);
  }
  const t = post.map((s) => s.t);
  const heap = seriesStats(
    t,
    post.map((s) => s.heapUsed + s.external),
  );
  const rss = seriesStats(
    t,
    post.map((s) => s.rss),
  );
  if (post.length >= 4) {
    const heapGrowth = heap.final - heap.plateau;
    if (
      heap.slope > criteria.maxSlopeBytesPerSec &&
      heapGrowth > criteria.minGrowthBytes &&
      heapGrowth > criteria.minGrowthRatio * heap.plateau
    ) {
      failures.push(
        `memory: heap keeps growing after warm-up: slope ${kibs(heap.slope)} (limit ${kibs(criteria.maxSlopeBytesPerSec)}), ` +
          `plateau ${mib(heap.plateau)} -> final ${mib(heap.final)} (+${mib(heapGrowth)})`,
      );
    }
    const rssGrowth = rss.final - rss.plateau;
    if (rss.slope > criteria.rssMaxSlopeBytesPerSec && rssGrowth > criteria.rssMinGrowthBytes) {
      failures.push(
        `memory: RSS keeps growing after warm-up: slope ${kibs(rss.slope)} (limit ${kibs(criteria.rssMaxSlopeBytesPerSec)}), ` +
          `plateau ${mib(rss.plateau)} -> final ${mib(rss.final)} (+${mib(rssGrowth)})`,
      );
    }
  }
  return { warmupSeconds: warmup, samples: post.length, heap, rss, failures };
}

/** Forces a GC and reads memory; requires node --expose-gc. */
export function sampleMemory(t: number): MemorySample {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('soak: run node with --expose-gc');
  gc();
  const usage = process.memoryUsage();
  return { t, heapUsed: usage.heapUsed, external: usage.external, rss: usage.rss };
}
