-- majra RedisSlidingWindowLimiter: approximate sliding-window checks (two weighted fixed
-- windows; one per key, in order; a key may repeat), atomically, on the server's clock.
--
-- KEYS:
--   1..N window  HASH { p = previous window count, c = current count, s = current window start (ms) }
-- ARGV:
--   1 max          requests admitted per window (>= 1)
--   2 windowMs     window length (> 0)
--   3..N+2 cost    units check i needs (0 < cost <= max)
-- Returns: { allowed (1|0), remaining whole units, retryAfterMs (0 when allowed) } per check,
--   flattened.
-- estimate = prev * (1 - (now - start) / W) + curr; admitted when estimate + cost <= max.
-- Rejected requests are not counted. The key expires 2 windows after its last write.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local max = tonumber(ARGV[1])
local w = tonumber(ARGV[2])
local out = {}
local clock = now
for i = 1, #KEYS do
  local key = KEYS[i]
  local cost = tonumber(ARGV[i + 2])
  now = clock
  local state = redis.call('HMGET', key, 'p', 'c', 's')
  local prev = tonumber(state[1]) or 0
  local curr = tonumber(state[2]) or 0
  local start = tonumber(state[3])
  if start == nil then start = now end
  if now < start then now = start end
  local e = now - start
  if e >= 2 * w then
    prev = 0
    curr = 0
    start = now
  elseif e >= w then
    prev = curr
    curr = 0
    start = start + w
  end
  e = now - start
  local estimate = prev * (1 - e / w) + curr
  local allowed = 0
  local retry = 0
  if estimate + cost <= max then
    curr = curr + cost
    estimate = estimate + cost
    allowed = 1
  else
    local need = max - curr - cost
    if need >= 0 and prev > 0 then
      -- wait until the previous window's weight has decayed enough
      retry = w * (1 - need / prev) - e
    else
      -- wait for the next window; then this window's count becomes the decaying one
      retry = w - e
      if curr > 0 then
        local t2 = w * (1 - (max - cost) / curr)
        if t2 > 0 then retry = retry + t2 end
      end
    end
    retry = math.max(1, math.ceil(retry))
  end
  redis.call('HSET', key, 'p', prev, 'c', curr, 's', string.format('%.17g', start))
  redis.call('PEXPIRE', key, math.ceil(2 * w) + 1000)
  local remaining = math.floor(max - estimate)
  if remaining < 0 then remaining = 0 end
  out[#out + 1] = allowed
  out[#out + 1] = remaining
  out[#out + 1] = retry
end
return out
