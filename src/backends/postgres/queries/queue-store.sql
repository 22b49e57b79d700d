-- Statements of PostgresQueueStore. Each block starts with `-- name: <id>`; the comment
-- lines under it document its `$n` parameters. {{schema}} is the quoted schema
-- identifier; every value is a parameter. Each statement is one atomic, synchronously
-- committed step (the QueueStore contract: durable once it returns).

-- name: insert
-- $1 queue, $2 id, $3 seq bigint, $4 priority, $5 state, $6 payload, $7 gpu_count,
-- $8 vram_mb, $9 attempts, $10 enqueued_at, $11 started_at, $12 finished_at.
-- Returns no row when (queue, id) already exists; the existing row is untouched.
INSERT INTO {{schema}}.majra_queue_jobs
  (queue, id, seq, priority, state, payload, gpu_count, vram_mb, attempts,
   enqueued_at, started_at, finished_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (queue, id) DO NOTHING
RETURNING id

-- name: transition
-- $1 queue, $2 id, $3 from state, $4 to state, $5 attempts, $6 started_at, $7 finished_at.
-- Compare-and-set on the current state: no row returned = missing or not in $3.
UPDATE {{schema}}.majra_queue_jobs
SET state = $4, attempts = $5, started_at = $6, finished_at = $7
WHERE queue = $1 AND id = $2 AND state = $3
RETURNING id

-- name: load
-- $1 queue. Every row of the queue in arrival order.
SELECT id, seq::float8 AS seq, priority::int AS priority, state, payload,
  gpu_count::float8 AS gpu_count, vram_mb::float8 AS vram_mb, attempts,
  enqueued_at, started_at, finished_at
FROM {{schema}}.majra_queue_jobs
WHERE queue = $1
ORDER BY seq

-- name: remove
-- $1 queue, $2 ids text[]. One statement, so all listed rows go or none do.
DELETE FROM {{schema}}.majra_queue_jobs WHERE queue = $1 AND id = ANY($2::text[])
