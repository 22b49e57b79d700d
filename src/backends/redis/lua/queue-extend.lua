-- majra RedisQueue: extend the leases of held jobs (a long-running consumer's heartbeat).
--
-- KEYS: the 10 queue keys, see queue-enqueue.lua.
-- ARGV:
--   1 visibilityMs  new lease length from now (server time)
--   2.. pairs       id, attempt
-- Returns: one integer per job: 1 extended, 0 lease lost.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local deadline = now + tonumber(ARGV[1])
local out = {}
for i = 2, #ARGV, 2 do
  local id = ARGV[i]
  if redis.call('ZSCORE', KEYS[2], id) and redis.call('HGET', KEYS[6], id) == ARGV[i + 1] then
    redis.call('ZADD', KEYS[2], deadline, id)
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out
