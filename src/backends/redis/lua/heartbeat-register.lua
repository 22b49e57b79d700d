-- majra RedisHeartbeatTracker: register (or re-register) a node.
--
-- KEYS:
--   1 node   HASH { t = last heartbeat (server epoch ms), r = registration time (ms),
--                   m = metadata JSON, g = GPU list JSON }
-- ARGV:
--   1 ttlMs      the key expires this long after the last heartbeat (offlineAfter + retention)
--   2 metadata   JSON text
--   3 gpus       JSON text of the GPU list ('[]' for none)
-- Returns: the server time written (epoch ms).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 't', now, 'r', now, 'm', ARGV[2], 'g', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return now
