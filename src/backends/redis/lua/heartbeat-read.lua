-- majra RedisHeartbeatTracker: read nodes together with the server time, so every
-- status is computed against one clock.
--
-- KEYS: node keys (HASH, see heartbeat-register.lua), any number
-- ARGV: none
-- Returns: { nowMs, t1, r1, m1, g1, t2, r2, m2, g2, ... } with '' for a missing node.
local t = redis.call('TIME')
local out = { tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) }
for i = 1, #KEYS do
  local v = redis.call('HMGET', KEYS[i], 't', 'r', 'm', 'g')
  out[#out + 1] = v[1] or ''
  out[#out + 1] = v[2] or ''
  out[#out + 1] = v[3] or ''
  out[#out + 1] = v[4] or ''
end
return out
