-- majra RedisRateLimiter: one token-bucket check, atomically, on the server's clock.
--
-- KEYS:
--   1 bucket  HASH { t = tokens (may be fractional), ts = last refill (server epoch ms) }
-- ARGV:
--   1 rate    tokens added per second (> 0)
--   2 burst   bucket capacity (>= 1)
--   3 cost    tokens this request needs (0 < cost <= burst)
-- Returns: { allowed (1|0), remaining whole tokens, retryAfterMs (0 when allowed) }
-- The key expires once the bucket would be full again (burst / rate seconds + 1 s), at
-- which point a fresh bucket is identical, so the key space stays bounded by traffic.
-- Time comes from TIME: callers' clocks do not matter, and if the server clock steps
-- back the stored time is kept (no negative refill).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
if now > ts then
  tokens = math.min(burst, tokens + (now - ts) * rate / 1000)
  ts = now
end
local allowed = 0
local retry = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  retry = math.ceil((cost - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 't', string.format('%.17g', tokens), 'ts', string.format('%.17g', ts))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return { allowed, math.floor(tokens), retry }
