// Per-key rate limiting in memory: a token bucket (average rate + burst) and a sliding
// window (N per window). Decisions are synchronous; acquire() waits for capacity.
// Run: npm run build && node --import tsx examples/ratelimit.ts
import { RateLimiter, SlidingWindowLimiter } from 'majra/ratelimit';

// 5 requests/s on average, bursts of 3, at most 100 000 users tracked.
const perUser = new RateLimiter({ ratePerSecond: 5, burst: 3, maxKeys: 100_000 });
const decisions = [];
for (let i = 0; i < 5; i++) {
  const { allowed, remaining, retryAfterMs } = perUser.check('user:42');
  decisions.push(allowed ? `ok (${remaining} left)` : `429 retry in ${Math.ceil(retryAfterMs)} ms`);
}
console.log('user:42', decisions.join(', '));
console.log('user:7 ', perUser.check('user:7').allowed ? 'ok' : '429', '(keys are independent)');

// acquire() waits until the bucket can pay the cost (or the signal aborts).
const started = performance.now();
await perUser.acquire('user:42', { cost: 1, signal: AbortSignal.timeout(5_000) });
console.log(`acquire waited about ${Math.round((performance.now() - started) / 10) * 10} ms`);

// 3 requests per second per IP, counted over a sliding window.
const perIp = new SlidingWindowLimiter({ maxRequests: 3, windowMs: 1_000 });
const ip = Array.from({ length: 4 }, () => (perIp.check('ip:203.0.113.9').allowed ? 'ok' : '429'));
console.log('ip', ip.join(', '));

console.log('stats', JSON.stringify(perUser.stats()));
await perUser.close();
await perIp.close();
console.log('ratelimit example done');
