-- majra RedisHeartbeatTracker: heartbeat of a registered node (unknown nodes are not
-- registered implicitly).
--
-- KEYS:
--   1 node   HASH, see heartbeat-register.lua
-- ARGV:
--   1 ttlMs      new expiry from now
--   2 setMeta    '1' to replace the metadata with ARGV[3], '' to keep it
--   3 metadata   JSON text
--   4 setGpus    '1' to replace the GPU list with ARGV[5], '' to keep it
--   5 gpus       JSON text
-- Returns: 1 when the node was known, 0 otherwise (nothing written).
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], 't', now)
if ARGV[2] == '1' then redis.call('HSET', KEYS[1], 'm', ARGV[3]) end
if ARGV[4] == '1' then redis.call('HSET', KEYS[1], 'g', ARGV[5]) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
