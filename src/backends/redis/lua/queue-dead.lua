-- majra RedisQueue: read or requeue dead-lettered jobs.
--
-- KEYS: the 10 queue keys, see queue-enqueue.lua.
-- ARGV:
--   1 mode    'list' or 'retry'
--   2 limit   (list) most entries returned, oldest first
--   3.. ids   (retry) jobs to move back to ready with their delivery count reset
-- Returns: list: { id, payload, attempts, error, deadAtMs, ... }; retry: one integer per
--   id (1 requeued, 0 not dead-lettered).
if ARGV[1] == 'list' then
  local ids = redis.call('ZRANGE', KEYS[7], 0, tonumber(ARGV[2]) - 1, 'WITHSCORES')
  local out = {}
  for i = 1, #ids, 2 do
    local id = ids[i]
    out[#out + 1] = id
    out[#out + 1] = redis.call('HGET', KEYS[4], id) or ''
    out[#out + 1] = redis.call('HGET', KEYS[6], id) or '0'
    out[#out + 1] = redis.call('HGET', KEYS[8], id) or ''
    out[#out + 1] = ids[i + 1]
  end
  return out
end
local out = {}
local requeued = 0
for i = 3, #ARGV do
  local id = ARGV[i]
  if redis.call('ZREM', KEYS[7], id) == 1 then
    redis.call('HDEL', KEYS[6], id)
    redis.call('HDEL', KEYS[8], id)
    redis.call('ZADD', KEYS[1], redis.call('HGET', KEYS[5], id) or 0, id)
    requeued = requeued + 1
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
if requeued > 0 then redis.call('LPUSH', KEYS[9], '1') end
return out
