-- majra RedisHeartbeatTracker: heartbeat of a registered node (unknown nodes are not
-- registered implicitly).
--
-- KEYS:
--   1 node   HASH, see heartbeat-register.lua
-- ARGV:
--   1 ttlMs   new expiry from now
--   2 field   '' (time only), 'm' (replace metadata) or 'g' (replace telemetry)
--   3 value   JSON text for the field
-- Returns: 1 when the node was known, 0 otherwise (nothing written).
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[2] == '' then
  redis.call('HSET', KEYS[1], 't', now)
else
  redis.call('HSET', KEYS[1], 't', now, ARGV[2], ARGV[3])
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
