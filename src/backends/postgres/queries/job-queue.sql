-- Statements of PostgresJobQueue. Each block starts with `-- name: <id>`; the comment
-- lines under it document its `$n` parameters. {{schema}} is the quoted schema
-- identifier (the only text substituted); every value is a parameter. NOTIFY payloads
-- are 'e:<queue>' (work is due on <queue>) and 'c:<id>' (job <id> was cancelled).

-- name: enqueue
-- $1 queue text, $2 payloads text[], $3 priorities int[], $4 delays (ms) float8[],
-- $5 max_attempts int[], $6 idempotency keys text[] (NULL = none), $7 channel text.
-- Returns the inserted rows; rows skipped by an idempotency key conflict are absent.
WITH input AS (
  SELECT * FROM unnest($2::text[], $3::int[], $4::float8[], $5::int[], $6::text[])
    WITH ORDINALITY AS t(payload, priority, delay_ms, max_attempts, idempotency_key, ord)
), ins AS (
  INSERT INTO {{schema}}.majra_jobs (queue, payload, priority, run_at, max_attempts, idempotency_key)
  SELECT $1, payload, priority, now() + delay_ms * interval '1 millisecond', max_attempts, idempotency_key
  FROM input ORDER BY ord
  ON CONFLICT (queue, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
  RETURNING id, idempotency_key, run_at
), notified AS (
  SELECT pg_notify($7, 'e:' || $1) FROM (SELECT 1 FROM ins WHERE run_at <= now() LIMIT 1) due
)
SELECT ins.id::text AS id, ins.idempotency_key, (SELECT count(*) FROM notified)::int AS notified
FROM ins

-- name: findByKeys
-- $1 queue text, $2 idempotency keys text[].
SELECT id::text AS id, idempotency_key FROM {{schema}}.majra_jobs
WHERE queue = $1 AND idempotency_key = ANY($2::text[])

-- name: claim
-- $1 queue text, $2 limit int, $3 lease (ms) float8, $4 worker id text,
-- $5 synchronous_commit for this transaction ('on' | 'off').
-- Highest priority first, FIFO by id within a priority; rows locked by another claimer
-- are skipped, so concurrent claimers never take the same job.
WITH picked AS (
  SELECT id FROM {{schema}}.majra_jobs
  WHERE queue = $1 AND state = 'queued' AND run_at <= now()
    AND (SELECT set_config('synchronous_commit', $5, true)) IS NOT NULL
  ORDER BY priority DESC, id
  LIMIT $2
  FOR UPDATE SKIP LOCKED
)
UPDATE {{schema}}.majra_jobs j
SET state = 'running', attempts = j.attempts + 1, started_at = now(),
    lease_until = now() + $3 * interval '1 millisecond', worker = $4
FROM picked WHERE j.id = picked.id
RETURNING j.id::text AS id, j.priority, j.payload, j.attempts, j.max_attempts,
  (extract(epoch FROM j.created_at) * 1000)::bigint::float8 AS created_at

-- name: ack
-- $1 ids bigint[], $2 attempts (fencing tokens) int[], $3 results text[] (NULL = none),
-- $4 synchronous_commit ('on' | 'off').
-- Only jobs still running under the same attempt are completed.
UPDATE {{schema}}.majra_jobs j
SET state = 'completed', finished_at = now(), lease_until = NULL, result = a.result
FROM unnest($1::bigint[], $2::int[], $3::text[]) AS a(id, attempt, result)
WHERE j.id = a.id AND j.attempts = a.attempt AND j.state = 'running'
  AND (SELECT set_config('synchronous_commit', $4, true)) IS NOT NULL
RETURNING j.id::text AS id

-- name: ackDelete
-- $1 ids bigint[], $2 attempts int[], $3 synchronous_commit ('on' | 'off').
-- Completion with zero retention: the row goes.
DELETE FROM {{schema}}.majra_jobs j
USING unnest($1::bigint[], $2::int[]) AS a(id, attempt)
WHERE j.id = a.id AND j.attempts = a.attempt AND j.state = 'running'
  AND (SELECT set_config('synchronous_commit', $3, true)) IS NOT NULL
RETURNING j.id::text AS id

-- name: nack
-- $1 id bigint, $2 attempt int, $3 retry delay (ms) float8, $4 error text,
-- $5 force dead-letter boolean, $6 channel text, $7 synchronous_commit ('on' | 'off').
WITH upd AS (
  UPDATE {{schema}}.majra_jobs
  SET state = CASE WHEN $5 OR attempts >= max_attempts THEN 'dead' ELSE 'queued' END,
      run_at = CASE WHEN $5 OR attempts >= max_attempts THEN run_at
                    ELSE now() + $3 * interval '1 millisecond' END,
      finished_at = CASE WHEN $5 OR attempts >= max_attempts THEN now() ELSE NULL END,
      lease_until = NULL, worker = NULL, last_error = $4
  WHERE id = $1 AND attempts = $2 AND state = 'running'
    AND (SELECT set_config('synchronous_commit', $7, true)) IS NOT NULL
  RETURNING state, queue
), notified AS (
  SELECT pg_notify($6, 'e:' || queue) FROM upd WHERE state = 'queued' AND $3 <= 0
)
SELECT state, (SELECT count(*) FROM notified)::int AS notified FROM upd

-- name: renew
-- $1 ids bigint[], $2 attempts int[], $3 lease (ms) float8, $4 synchronous_commit.
-- Returns the ids still held.
UPDATE {{schema}}.majra_jobs j
SET lease_until = now() + $3 * interval '1 millisecond'
FROM unnest($1::bigint[], $2::int[]) AS a(id, attempt)
WHERE j.id = a.id AND j.attempts = a.attempt AND j.state = 'running'
  AND (SELECT set_config('synchronous_commit', $4, true)) IS NOT NULL
RETURNING j.id::text AS id

-- name: reap
-- $1 limit int, $2 channel text. Running jobs whose lease expired (their worker died or
-- stalled) go back to queued, or to dead when their attempts are used up.
WITH expired AS (
  SELECT id FROM {{schema}}.majra_jobs
  WHERE state = 'running' AND lease_until < now()
  ORDER BY lease_until LIMIT $1
  FOR UPDATE SKIP LOCKED
), upd AS (
  UPDATE {{schema}}.majra_jobs j
  SET state = CASE WHEN j.attempts >= j.max_attempts THEN 'dead' ELSE 'queued' END,
      finished_at = CASE WHEN j.attempts >= j.max_attempts THEN now() ELSE NULL END,
      lease_until = NULL, worker = NULL,
      last_error = 'lease expired: worker ' || coalesce(j.worker, '?') || ' stopped renewing'
  FROM expired WHERE j.id = expired.id
  RETURNING j.queue, j.state
), notified AS (
  SELECT pg_notify($2, 'e:' || queue) FROM (SELECT DISTINCT queue FROM upd WHERE state = 'queued') q
)
SELECT (SELECT count(*) FROM upd)::int AS reaped, (SELECT count(*) FROM notified)::int AS notified

-- name: cancel
-- $1 id bigint, $2 channel text. Cancels a queued or running job; a running job's
-- worker hears 'c:<id>' and aborts the handler's signal.
WITH upd AS (
  UPDATE {{schema}}.majra_jobs
  SET state = 'cancelled', finished_at = now(), lease_until = NULL
  WHERE id = $1 AND state IN ('queued', 'running')
  RETURNING id
), notified AS (
  SELECT pg_notify($2, 'c:' || id::text) FROM upd
)
SELECT (SELECT count(*) FROM notified)::int AS changed

-- name: retry
-- $1 id bigint, $2 channel text. Puts a dead or cancelled job back as a fresh job.
WITH upd AS (
  UPDATE {{schema}}.majra_jobs
  SET state = 'queued', attempts = 0, run_at = now(), finished_at = NULL, result = NULL
  WHERE id = $1 AND state IN ('dead', 'cancelled')
  RETURNING queue
), notified AS (
  SELECT pg_notify($2, 'e:' || queue) FROM upd
)
SELECT (SELECT count(*) FROM notified)::int AS changed

-- name: sweep
-- $1 keep completed/cancelled (ms) float8, $2 keep dead (ms) float8, $3 limit int.
WITH deleted AS (
  DELETE FROM {{schema}}.majra_jobs WHERE id IN (
    SELECT id FROM {{schema}}.majra_jobs
    WHERE (state IN ('completed', 'cancelled') AND finished_at < now() - $1 * interval '1 millisecond')
       OR (state = 'dead' AND finished_at < now() - $2 * interval '1 millisecond')
    LIMIT $3
  )
  RETURNING 1
)
SELECT count(*)::int AS deleted FROM deleted

-- name: nextDue
-- $1 queue text. Milliseconds until the earliest queued job of the queue is due (NULL: none).
SELECT (extract(epoch FROM min(run_at) - now()) * 1000)::float8 AS due_in_ms
FROM {{schema}}.majra_jobs WHERE queue = $1 AND state = 'queued'

-- name: get
-- $1 id bigint.
SELECT id::text AS id, queue, state, priority, payload, attempts, max_attempts,
  idempotency_key, last_error, result,
  (extract(epoch FROM created_at) * 1000)::bigint::float8 AS created_at,
  (extract(epoch FROM run_at) * 1000)::bigint::float8 AS run_at,
  (extract(epoch FROM started_at) * 1000)::bigint::float8 AS started_at,
  (extract(epoch FROM finished_at) * 1000)::bigint::float8 AS finished_at
FROM {{schema}}.majra_jobs WHERE id = $1

-- name: counts
-- $1 queue text.
SELECT state, count(*)::int AS n FROM {{schema}}.majra_jobs WHERE queue = $1 GROUP BY state
