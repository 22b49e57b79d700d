// Streaming checks of rate-limiter admissions, in memory independent of run length.

/**
 * A token bucket of capacity `burst` refilled at `ratePerSecond` can never admit more
 * than `burst + rate × (b − a)` unit-cost requests whose admission instants lie in
 * [a, b]. Each admission is known to have happened somewhere in [start, end] (the call's
 * bounds; equal when the decision was synchronous). Admissions are fed in `start` order
 * (see {@link OrderedIntervals}); for the admissions i..j the instants lie in
 * [start_i, max end], so it checks `(j − i + 1) ≤ burst + rate × (maxEnd_j − start_i)`
 * for every i ≤ j in O(1) per admission by keeping the minimum of `i − rate × start_i`.
 */
export class TokenBucketBound {
  #count = 0;
  #maxEnd = -Infinity;
  #minTerm = Infinity;
  violations = 0;
  worstExcess = -Infinity;

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
  ) {}

  /** Times in milliseconds. */
  admit(startMs: number, endMs: number): void {
    const rate = this.ratePerSecond / 1000;
    this.#minTerm = Math.min(this.#minTerm, this.#count - rate * startMs);
    this.#maxEnd = Math.max(this.#maxEnd, endMs);
    this.#count++;
    const excess = this.#count - rate * this.#maxEnd - this.#minTerm - this.burst;
    this.worstExcess = Math.max(this.worstExcess, excess);
    // 1e-3 of a token absorbs float rounding in the limiter's refill arithmetic.
    if (excess > 1e-3) this.violations++;
  }

  get admitted(): number {
    return this.#count;
  }
}

/**
 * Releases intervals in `start` order once no call that started earlier can still be in
 * flight: callers report the start of every call they begin (`begin`) and finish
 * (`end`), and intervals older than the oldest open call are flushed sorted.
 */
export class OrderedIntervals {
  readonly #open = new Map<number, number>();
  #buffer: { start: number; end: number }[] = [];
  #nextToken = 0;

  constructor(private readonly sink: (start: number, end: number) => void) {}

  begin(start: number): number {
    const token = this.#nextToken++;
    this.#open.set(token, start);
    return token;
  }

  /** Ends call `token`; `admitted` calls are fed to the sink in start order. */
  end(token: number, end: number, admitted: boolean): void {
    const start = this.#open.get(token);
    this.#open.delete(token);
    if (start === undefined) return;
    if (admitted) this.#buffer.push({ start, end });
    let watermark = Infinity;
    for (const s of this.#open.values()) watermark = Math.min(watermark, s);
    if (this.#buffer.length === 0) return;
    this.#buffer.sort((a, b) => a.start - b.start);
    let i = 0;
    while (i < this.#buffer.length && this.#buffer[i]!.start < watermark) {
      this.sink(this.#buffer[i]!.start, this.#buffer[i]!.end);
      i++;
    }
    if (i > 0) this.#buffer = this.#buffer.slice(i);
  }
}

/**
 * The sliding-window limiter's hard guarantees, modelled from the exact clock readings it
 * made: at most `maxRequests` admissions per window of its grid (anchored at the key's
 * first check, advanced by exactly `windowMs`, re-anchored after two idle windows) and at
 * most `2 × maxRequests` in any interval of length `windowMs`.
 */
export class SlidingWindowBound {
  #start: number | undefined;
  #curr = 0;
  readonly #recent: number[] = [];
  violations = 0;
  maxInGrid = 0;
  maxInSliding = 0;
  admitted = 0;

  constructor(
    readonly maxRequests: number,
    readonly windowMs: number,
  ) {}

  /** Every check, admitted or not, at the instant the limiter read its clock. */
  check(now: number, allowed: boolean): void {
    const w = this.windowMs;
    if (this.#start === undefined || now - this.#start >= 2 * w) {
      this.#start = now;
      this.#curr = 0;
    } else if (now - this.#start >= w) {
      this.#start += w;
      this.#curr = 0;
    }
    if (!allowed) return;
    this.admitted++;
    this.#curr++;
    this.#recent.push(now);
    while (this.#recent.length > 0 && this.#recent[0]! <= now - w) this.#recent.shift();
    this.maxInGrid = Math.max(this.maxInGrid, this.#curr);
    this.maxInSliding = Math.max(this.maxInSliding, this.#recent.length);
    if (this.#curr > this.maxRequests || this.#recent.length > 2 * this.maxRequests) {
      this.violations++;
    }
  }
}
