-- majra RedisQueue: give jobs back after a failed attempt: requeue at their original
-- position, delay them, or dead-letter them (after maxAttempts deliveries, or on request).
--
-- KEYS: the 10 queue keys, see queue-enqueue.lua.
-- ARGV:
--   1 maxAttempts
--   2 maxDead       dead-letter capacity (oldest entries are deleted beyond it)
--   3 notifyCap
--   4.. quads       id, attempt, delayMs, error text. delayMs: 0 requeue now, > 0 delay,
--                   -1 dead-letter now, -2 release (requeue without counting the delivery)
-- Returns: one integer per job: 0 lease lost, 1 requeued, 2 delayed, 3 dead-lettered.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local maxAttempts = tonumber(ARGV[1])
local maxDead = tonumber(ARGV[2])
local notifyCap = tonumber(ARGV[3])
local out = {}
local requeued, dead = 0, 0
for i = 4, #ARGV, 4 do
  local id = ARGV[i]
  local delay = tonumber(ARGV[i + 2])
  if redis.call('ZSCORE', KEYS[2], id) and redis.call('HGET', KEYS[6], id) == ARGV[i + 1] then
    redis.call('ZREM', KEYS[2], id)
    if delay == -2 then
      redis.call('HINCRBY', KEYS[6], id, -1)
      redis.call('ZADD', KEYS[1], redis.call('HGET', KEYS[5], id) or 0, id)
      requeued = requeued + 1
      out[#out + 1] = 1
    elseif delay == -1 or tonumber(ARGV[i + 1]) >= maxAttempts then
      redis.call('HSET', KEYS[8], id, ARGV[i + 3])
      redis.call('ZADD', KEYS[7], now, id)
      dead = dead + 1
      out[#out + 1] = 3
    elseif delay > 0 then
      redis.call('HSET', KEYS[8], id, ARGV[i + 3])
      redis.call('ZADD', KEYS[3], now + delay, id)
      out[#out + 1] = 2
    else
      redis.call('HSET', KEYS[8], id, ARGV[i + 3])
      redis.call('ZADD', KEYS[1], redis.call('HGET', KEYS[5], id) or 0, id)
      requeued = requeued + 1
      out[#out + 1] = 1
    end
  else
    out[#out + 1] = 0
  end
end
if requeued > 0 and redis.call('LLEN', KEYS[9]) < notifyCap then
  redis.call('LPUSH', KEYS[9], '1')
end
if dead > 0 then
  local excess = redis.call('ZCARD', KEYS[7]) - maxDead
  if excess > 0 then
    local old = redis.call('ZPOPMIN', KEYS[7], excess)
    for j = 1, #old, 2 do
      redis.call('HDEL', KEYS[4], old[j])
      redis.call('HDEL', KEYS[5], old[j])
      redis.call('HDEL', KEYS[6], old[j])
      redis.call('HDEL', KEYS[8], old[j])
    end
  end
end
return out
