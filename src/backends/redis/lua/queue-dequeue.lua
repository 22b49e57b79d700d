-- majra RedisQueue: claim up to `count` jobs, after moving due delayed jobs to ready and
-- reclaiming jobs whose lease expired (their consumer died or stalled).
--
-- KEYS: the 10 queue keys, see queue-enqueue.lua (ready, active, delayed, data, meta, att,
--       dead, err, notify, seq).
-- ARGV:
--   1 count          jobs to claim (0 only runs the maintenance steps)
--   2 visibilityMs   lease length; an unacknowledged job is redelivered after it
--   3 maxAttempts    deliveries after which an expired lease dead-letters the job
--   4 reclaimLimit   most delayed/expired jobs handled per call (bounds script time)
--   5 maxDead        dead-letter capacity (oldest entries are deleted beyond it)
--   6 notifyCap      longest the notify list may grow
-- Returns: { reclaimed, deadLettered, waitHintMs, id1, payload1, attempt1, score1, ... }
--   waitHintMs: when nothing is ready, ms until the next lease expiry or delayed job is
--   due (-1 when there is none); 0 otherwise.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local count = tonumber(ARGV[1])
local visibility = tonumber(ARGV[2])
local maxAttempts = tonumber(ARGV[3])
local limit = tonumber(ARGV[4])
local maxDead = tonumber(ARGV[5])
local notifyCap = tonumber(ARGV[6])

local function forget(id)
  redis.call('HDEL', KEYS[4], id)
  redis.call('HDEL', KEYS[5], id)
  redis.call('HDEL', KEYS[6], id)
  redis.call('HDEL', KEYS[8], id)
end

local due = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, limit)
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[3], id)
  redis.call('ZADD', KEYS[1], redis.call('HGET', KEYS[5], id) or 0, id)
end

local reclaimed, dead = 0, 0
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, limit)
for _, id in ipairs(expired) do
  redis.call('ZREM', KEYS[2], id)
  local attempts = tonumber(redis.call('HGET', KEYS[6], id) or '0')
  if attempts >= maxAttempts then
    redis.call('ZADD', KEYS[7], now, id)
    redis.call('HSET', KEYS[8], id, 'lease expired on attempt ' .. attempts)
    dead = dead + 1
  else
    redis.call('ZADD', KEYS[1], redis.call('HGET', KEYS[5], id) or 0, id)
    reclaimed = reclaimed + 1
  end
end
if dead > 0 then
  local excess = redis.call('ZCARD', KEYS[7]) - maxDead
  if excess > 0 then
    local old = redis.call('ZPOPMIN', KEYS[7], excess)
    for i = 1, #old, 2 do forget(old[i]) end
  end
end

local out = { reclaimed, dead, 0 }
if count > 0 then
  local popped = redis.call('ZPOPMIN', KEYS[1], count)
  for i = 1, #popped, 2 do
    local id = popped[i]
    local payload = redis.call('HGET', KEYS[4], id)
    if payload then
      local attempt = redis.call('HINCRBY', KEYS[6], id, 1)
      redis.call('ZADD', KEYS[2], now + visibility, id)
      out[#out + 1] = id
      out[#out + 1] = payload
      out[#out + 1] = attempt
      out[#out + 1] = popped[i + 1]
    else
      forget(id)
    end
  end
end

if redis.call('ZCARD', KEYS[1]) == 0 then
  -- Nothing ready: stale wake-up tokens would only cause empty polls.
  redis.call('DEL', KEYS[9])
  local hint = -1
  local a = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  if a[2] then hint = tonumber(a[2]) - now end
  local d = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
  if d[2] and (hint < 0 or tonumber(d[2]) - now < hint) then hint = tonumber(d[2]) - now end
  if hint == 0 then hint = 1 end
  out[3] = hint
elseif redis.call('LLEN', KEYS[9]) == 0 and notifyCap > 0 then
  -- Jobs remain: pass the baton so another blocked consumer wakes up.
  redis.call('LPUSH', KEYS[9], '1')
end
return out
