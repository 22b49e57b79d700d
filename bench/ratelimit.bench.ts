// Rate limiting: majra's in-memory token bucket and sliding window against
// rate-limiter-flexible's RateLimiterMemory, measured in the same run.
//
//   node --expose-gc --import tsx -e "import('./bench/ratelimit.bench.ts').then(m => m.run({ quick: false })).then(r => console.log(JSON.stringify(r, null, 2)))"
//
// `--expose-gc` gives the memory rows an explicit global.gc; without it the bench enables
// gc through v8.setFlagsFromString, which works on Node 20 but is less certain.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { RateLimiter } from '../src/ratelimit/token-bucket.js';
import { SlidingWindowLimiter } from '../src/ratelimit/sliding-window.js';
import {
  measure,
  median,
  spread,
  type BenchOptions,
  type BenchReport,
  type BenchRow,
} from './lib.js';

const BATCH = 1_000;

function collectGarbage(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed !== undefined) return exposed;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function heapBytes(gc: () => void): number {
  for (let i = 0; i < 3; i++) gc();
  const usage = process.memoryUsage();
  // Typed-array backing stores live outside the JS heap: count them too.
  return usage.heapUsed + usage.external;
}

/** Bytes retained per key after `keys` distinct keys were checked once. */
async function bytesPerKey(
  keys: number,
  build: () => { check(key: string): unknown },
  isAsync: boolean,
): Promise<number> {
  const gc = collectGarbage();
  const before = heapBytes(gc);
  const limiter = build();
  for (let i = 0; i < keys; i++) {
    const result = limiter.check(`user:${i}`);
    if (isAsync) await result;
  }
  const after = heapBytes(gc);
  // Keep the limiter reachable until the second measurement.
  if (limiter.check('user:0') === undefined) throw new Error('unreachable');
  return (after - before) / keys;
}

/**
 * Sustained ops/s: wall time over `batches` whole batches, garbage collection and the
 * peer's timer churn included (tinybench's median iteration hides those pauses).
 */
async function sustained(batch: () => unknown, batches: number): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < batches; i++) {
    const result = batch();
    if (result instanceof Promise) await result;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return (batches * BATCH) / seconds;
}

export async function run(options: BenchOptions): Promise<BenchReport> {
  const keyCount = options.quick ? 100 : 10_000;
  const keys = Array.from({ length: keyCount }, (_, i) => `user:${i}`);

  const bucket = new RateLimiter({ ratePerSecond: 1_000, burst: 1_000 });
  const window = new SlidingWindowLimiter({ maxRequests: 1_000, windowMs: 1_000 });
  const flexible = new RateLimiterMemory({ points: 1_000, duration: 1 });
  let cursor = 0;
  let sink = 0;

  const swallow = (): void => undefined;
  const bucketBatch = (): void => {
    for (let i = 0; i < BATCH; i++) {
      if (bucket.check(keys[cursor++ % keyCount]!).allowed) sink++;
    }
  };
  const windowBatch = (): void => {
    for (let i = 0; i < BATCH; i++) {
      if (window.check(keys[cursor++ % keyCount]!).allowed) sink++;
    }
  };
  // The peer is promise-based: a batch is issued at once and awaited together, its
  // fastest calling pattern (awaiting each call one by one is slower).
  const flexibleBatch = async (): Promise<void> => {
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < BATCH; i++) {
      pending.push(flexible.consume(keys[cursor++ % keyCount]!).catch(swallow));
    }
    await Promise.all(pending);
  };
  // The Rust project's bench ids (spec/scheduling.md §7), majra only.
  const tenKeys = Array.from({ length: 10 }, (_, i) => `k${i}`);
  const rust10 = new RateLimiter({ ratePerSecond: 1_000, burst: 100 });
  const rustHot = new RateLimiter({ ratePerSecond: 100_000, burst: 10_000 });
  const results = await measure(
    {
      ratelimit_check_1000: () => {
        for (let i = 0; i < 1000; i++) if (rust10.check(tenKeys[i % 10]!).allowed) sink++;
      },
      ratelimit_check_single_key_1000: () => {
        for (let i = 0; i < 1000; i++) if (rustHot.check('hot').allowed) sink++;
      },
      'majra RateLimiter.check': bucketBatch,
      'majra SlidingWindowLimiter.check': windowBatch,
      'rate-limiter-flexible RateLimiterMemory.consume': flexibleBatch,
    },
    options,
  );
  // Sustained rounds, alternating majra and the peer so both see the same machine load.
  const batches = options.quick ? 5 : 2_000;
  const sustainedBucket: number[] = [];
  const sustainedPeer: number[] = [];
  for (let round = 0; round < (options.quick ? 1 : 5); round++) {
    sustainedBucket.push(await sustained(bucketBatch, batches));
    sustainedPeer.push(await sustained(flexibleBatch, batches));
  }
  const opsPerSec = (name: string): { hz: number; spread: number } => {
    const r = results.get(name);
    if (r === undefined) throw new Error(`missing bench task ${name}`);
    return { hz: r.hz * BATCH, spread: r.spread };
  };
  const tb = opsPerSec('majra RateLimiter.check');
  const sw = opsPerSec('majra SlidingWindowLimiter.check');
  const peer = opsPerSec('rate-limiter-flexible RateLimiterMemory.consume');

  const memKeys = options.quick ? 10_000 : 1_000_000;
  const tbBytes = await bytesPerKey(
    memKeys,
    () => new RateLimiter({ ratePerSecond: 1, burst: 10, maxKeys: memKeys }),
    false,
  );
  const swBytes = await bytesPerKey(
    memKeys,
    () => new SlidingWindowLimiter({ maxRequests: 10, windowMs: 60_000, maxKeys: memKeys }),
    false,
  );
  const peerBytes = await bytesPerKey(
    memKeys,
    () => {
      const limiter = new RateLimiterMemory({ points: 10, duration: 3_600 });
      return { check: (key: string) => limiter.consume(key) };
    },
    true,
  );

  const peerRow = (value: number, spread?: number): NonNullable<BenchRow['peer']> => ({
    name: 'rate-limiter-flexible RateLimiterMemory',
    value,
    ...(spread === undefined ? {} : { spread }),
  });
  const rustRow = (id: string, what: string): BenchRow => {
    const r = results.get(id);
    if (r === undefined) throw new Error(`missing bench task ${id}`);
    return { name: `${id} (${what})`, unit: 'ops/s', majra: r.hz, spread: r.spread };
  };
  const rows: BenchRow[] = [
    {
      name: `token bucket checks over ${keyCount} keys`,
      unit: 'checks/s',
      majra: tb.hz,
      spread: tb.spread,
      peer: peerRow(peer.hz, peer.spread),
      targetRatio: 2,
      target: '>= 2x RateLimiterMemory checks/s',
    },
    {
      name: `token bucket sustained checks over ${keyCount} keys (wall time, GC included)`,
      unit: 'checks/s',
      majra: median(sustainedBucket),
      spread: spread(sustainedBucket),
      peer: peerRow(median(sustainedPeer), spread(sustainedPeer)),
      targetRatio: 2,
      target: '>= 2x RateLimiterMemory checks/s',
    },
    {
      name: `sliding window checks over ${keyCount} keys`,
      unit: 'checks/s',
      majra: sw.hz,
      spread: sw.spread,
      peer: peerRow(peer.hz, peer.spread),
    },
    {
      name: `token bucket memory at ${memKeys} keys`,
      unit: 'bytes/key',
      majra: tbBytes,
      peer: peerRow(peerBytes),
      targetRatio: 3,
      target: '<= 1/3 of RateLimiterMemory bytes per key',
      lowerIsBetter: true,
    },
    {
      name: `sliding window memory at ${memKeys} keys`,
      unit: 'bytes/key',
      majra: swBytes,
      peer: peerRow(peerBytes),
      lowerIsBetter: true,
    },
    rustRow('ratelimit_check_1000', '1000 checks over 10 keys, rate 1000, burst 100'),
    rustRow('ratelimit_check_single_key_1000', '1000 checks on one key, rate 1e5, burst 1e4'),
  ];
  if (sink < 0) throw new Error('unreachable');
  return {
    area: 'ratelimit',
    rows,
    notes: [
      "checks/s rows: tinybench median iteration of 1000-check batches; the sustained row divides total wall time (GC and the peer's per-key timers included) over 5 alternating rounds.",
      'Keys are `user:<n>` strings built per check; bytes per key include the key strings each limiter retains.',
      'RateLimiterMemory is a fixed-window counter with one Record and one timer per key; majra stores each key in typed-array columns.',
      `gc: ${(globalThis as { gc?: unknown }).gc === undefined ? 'enabled via v8.setFlagsFromString' : 'global.gc (--expose-gc)'}.`,
    ],
  };
}
