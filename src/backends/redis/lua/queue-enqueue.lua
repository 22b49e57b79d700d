-- majra RedisQueue: enqueue a batch of jobs atomically.
--
-- KEYS (shared by every queue script, in this order):
--   1 ready    ZSET  job id -> order score ((255 - priority) * 2^44 + sequence)
--   2 active   ZSET  job id -> lease deadline (server epoch ms)
--   3 delayed  ZSET  job id -> due time (server epoch ms)
--   4 data     HASH  job id -> payload (JSON text)
--   5 meta     HASH  job id -> order score (kept to requeue at the original position)
--   6 att      HASH  job id -> delivery count
--   7 dead     ZSET  job id -> time it was dead-lettered
--   8 err      HASH  job id -> last error text
--   9 notify   LIST  wake-up tokens for blocked consumers (bounded by notifyCap)
--  10 seq      STRING sequence counter (FIFO within a priority)
-- ARGV:
--   1 maxJobs     live jobs (ready + active + delayed) above which a job is refused
--   2 notifyCap   longest the notify list may grow
--   3.. triples   id, priority (integer 0..255), payload
-- Returns: one integer per job: 1 added, 0 already present (idempotent), -1 queue full.
local maxJobs = tonumber(ARGV[1])
local notifyCap = tonumber(ARGV[2])
local live = redis.call('HLEN', KEYS[4]) - redis.call('ZCARD', KEYS[7])
local out = {}
local added = 0
for i = 3, #ARGV, 3 do
  local id = ARGV[i]
  if redis.call('HEXISTS', KEYS[4], id) == 1 then
    out[#out + 1] = 0
  elseif live >= maxJobs then
    out[#out + 1] = -1
  else
    local seq = redis.call('INCR', KEYS[10])
    local score = string.format('%.0f', (255 - tonumber(ARGV[i + 1])) * 17592186044416 + seq)
    redis.call('HSET', KEYS[4], id, ARGV[i + 2])
    redis.call('HSET', KEYS[5], id, score)
    redis.call('ZADD', KEYS[1], score, id)
    live = live + 1
    added = added + 1
    out[#out + 1] = 1
  end
end
if added > 0 then
  local room = notifyCap - redis.call('LLEN', KEYS[9])
  if room > added then room = added end
  for _ = 1, room do redis.call('LPUSH', KEYS[9], '1') end
end
return out
