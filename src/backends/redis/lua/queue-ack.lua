-- majra RedisQueue: acknowledge jobs (delete them) if the caller still holds the lease.
--
-- KEYS: the 10 queue keys, see queue-enqueue.lua.
-- ARGV: pairs   id, attempt (the delivery the caller received; a later redelivery wins)
-- Returns: one integer per job: 1 acknowledged, 0 lease lost (expired, redelivered,
--          dead-lettered or unknown).
local out = {}
for i = 1, #ARGV, 2 do
  local id = ARGV[i]
  if redis.call('ZSCORE', KEYS[2], id) and redis.call('HGET', KEYS[6], id) == ARGV[i + 1] then
    redis.call('ZREM', KEYS[2], id)
    redis.call('HDEL', KEYS[4], id)
    redis.call('HDEL', KEYS[5], id)
    redis.call('HDEL', KEYS[6], id)
    redis.call('HDEL', KEYS[8], id)
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out
