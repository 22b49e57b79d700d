-- Statements of PostgresWorkflowStore. Each block starts with `-- name: <id>`; the
-- comment lines under it document its `$n` parameters. {{schema}} is the quoted schema
-- identifier; every value is a parameter. Times are the store clock's epoch ms.

-- name: insertRun
-- $1 id, $2 workflow id, $3 definition hash, $4 status, $5 input JSON text, $6 now,
-- $7 started_at, $8 owner, $9 lease expiry. No row returned when the id exists.
INSERT INTO {{schema}}.majra_workflow_runs
  (id, workflow_id, definition_hash, status, input_json, output_json, error,
   created_at, started_at, completed_at, updated_at, owner, lease_expires_at)
VALUES ($1, $2, $3, $4, $5, 'null', NULL, $6, $7, NULL, $6, $8, $9)
ON CONFLICT (id) DO NOTHING
RETURNING id

-- name: getRun
-- $1 run id.
SELECT * FROM {{schema}}.majra_workflow_runs WHERE id = $1

-- name: countRuns
-- No parameters.
SELECT count(*)::int AS n FROM {{schema}}.majra_workflow_runs

-- name: updateRun
-- Fenced patch. $1 id, $2 owner, $3 now; flags and values: $4/$5 status, $6/$7 output
-- JSON text, $8/$9 error, $10/$11 started_at, $12/$13 completed_at; $14 terminal
-- (releases the lease).
UPDATE {{schema}}.majra_workflow_runs SET
  status = CASE WHEN $4::boolean THEN $5::text ELSE status END,
  output_json = CASE WHEN $6::boolean THEN $7::text ELSE output_json END,
  error = CASE WHEN $8::boolean THEN $9::text ELSE error END,
  started_at = CASE WHEN $10::boolean THEN $11::float8 ELSE started_at END,
  completed_at = CASE WHEN $12::boolean THEN $13::float8 ELSE completed_at END,
  updated_at = $3,
  owner = CASE WHEN $14::boolean THEN NULL ELSE owner END,
  lease_expires_at = CASE WHEN $14::boolean THEN NULL ELSE lease_expires_at END
WHERE id = $1 AND owner = $2
RETURNING id

-- name: listRuns
-- $1 workflow id (NULL = all), $2 statuses text[] (NULL = all), $3 limit, $4 offset.
SELECT * FROM {{schema}}.majra_workflow_runs
WHERE ($1::text IS NULL OR workflow_id = $1)
  AND ($2::text[] IS NULL OR status = ANY($2::text[]))
ORDER BY created_at, id
LIMIT $3 OFFSET $4

-- name: listResumable
-- $1 now, $2 limit. Unfinished runs with no live lease.
SELECT * FROM {{schema}}.majra_workflow_runs
WHERE status IN ('pending', 'running')
  AND (owner IS NULL OR lease_expires_at IS NULL OR lease_expires_at <= $1)
ORDER BY created_at, id
LIMIT $2

-- name: claimRun
-- $1 id, $2 owner, $3 now, $4 lease expiry. One row only when the lease is free,
-- expired or already ours; the row lock makes concurrent claims serialise, and the
-- loser re-checks the condition against the winner's committed row.
UPDATE {{schema}}.majra_workflow_runs
SET owner = $2, lease_expires_at = $4, updated_at = $3
WHERE id = $1
  AND (owner IS NULL OR owner = $2 OR lease_expires_at IS NULL OR lease_expires_at <= $3)
RETURNING *

-- name: renewLease
-- $1 id, $2 owner, $3 now, $4 lease expiry.
UPDATE {{schema}}.majra_workflow_runs SET lease_expires_at = $4, updated_at = $3
WHERE id = $1 AND owner = $2
RETURNING id

-- name: releaseRun
-- $1 id, $2 owner, $3 now.
UPDATE {{schema}}.majra_workflow_runs SET owner = NULL, lease_expires_at = NULL, updated_at = $3
WHERE id = $1 AND owner = $2
RETURNING id

-- name: saveSteps
-- A group commit of queued step writes, in one statement. $1 now; then one array per
-- field, index i describing the i-th write in call order: $2 owners, $3 run ids, $4 step
-- ids, $5 statuses, $6 attempts, $7 output JSON texts, $8 errors, $9 started_at,
-- $10 completed_at, $11 duration_ms, $12 fallback step ids. Each (run, owner) pair is
-- touched once and fenced: the writes of a pair whose owner lost the lease write
-- nothing. Of several writes to one (run, step) the last in call order wins. Returns
-- the (run_id, owner) pairs that held the lease.
WITH input AS (
  SELECT * FROM unnest(
    $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::text[],
    $9::float8[], $10::float8[], $11::float8[], $12::text[]
  ) WITH ORDINALITY AS t(owner, run_id, step_id, status, attempt, output_json, error,
                         started_at, completed_at, duration_ms, fallback_step_id, ord)
), touched AS (
  UPDATE {{schema}}.majra_workflow_runs AS r SET updated_at = $1
  FROM (SELECT DISTINCT run_id, owner FROM input) AS pairs
  WHERE r.id = pairs.run_id AND r.owner = pairs.owner
  RETURNING r.id, r.owner
), written AS (
  INSERT INTO {{schema}}.majra_workflow_steps
    (run_id, step_id, status, attempt, output_json, error, started_at, completed_at,
     duration_ms, fallback_step_id)
  SELECT DISTINCT ON (i.run_id, i.step_id)
    i.run_id, i.step_id, i.status, i.attempt, i.output_json, i.error, i.started_at,
    i.completed_at, i.duration_ms, i.fallback_step_id
  FROM input AS i JOIN touched AS t ON t.id = i.run_id AND t.owner = i.owner
  ORDER BY i.run_id, i.step_id, i.ord DESC
  ON CONFLICT (run_id, step_id) DO UPDATE SET
    status = excluded.status,
    attempt = excluded.attempt,
    output_json = excluded.output_json,
    error = excluded.error,
    started_at = excluded.started_at,
    completed_at = excluded.completed_at,
    duration_ms = excluded.duration_ms,
    fallback_step_id = excluded.fallback_step_id
)
SELECT id AS run_id, owner FROM touched

-- name: getSteps
-- $1 run id. Ordered by started_at (NULL last), then step id.
SELECT * FROM {{schema}}.majra_workflow_steps WHERE run_id = $1
ORDER BY started_at ASC NULLS LAST, step_id

-- name: deleteRuns
-- $1 run ids text[]. Deletes the runs and their step records in one statement.
WITH steps AS (
  DELETE FROM {{schema}}.majra_workflow_steps WHERE run_id = ANY($1::text[])
), runs AS (
  DELETE FROM {{schema}}.majra_workflow_runs WHERE id = ANY($1::text[]) RETURNING id
)
SELECT count(*)::int AS n FROM runs

-- name: expiredRuns
-- $1 cutoff (now - finishedRunTtlMs). Finished runs whose COALESCE(completed_at,
-- updated_at) is at or before the cutoff, locked (a BitmapOr of two completed_at index scans).
SELECT id FROM {{schema}}.majra_workflow_runs
WHERE status IN ('completed', 'failed', 'cancelled')
  AND (completed_at <= $1 OR (completed_at IS NULL AND updated_at <= $1))
FOR UPDATE SKIP LOCKED

-- name: oldestFinished
-- $1 how many. Finished runs, oldest COALESCE(completed_at, updated_at) first, then id.
-- Each branch locks at most $1 rows in index order (runs finished without completed_at are
-- rare); eviction is a soft cap, so a row locked but not chosen is harmless.
WITH stamped AS (
  SELECT id, completed_at AS at FROM {{schema}}.majra_workflow_runs
  WHERE status IN ('completed', 'failed', 'cancelled') AND completed_at IS NOT NULL
  ORDER BY completed_at, id
  LIMIT $1
  FOR UPDATE SKIP LOCKED
), bare AS (
  SELECT id, updated_at AS at FROM {{schema}}.majra_workflow_runs
  WHERE status IN ('completed', 'failed', 'cancelled') AND completed_at IS NULL
  ORDER BY updated_at, id
  LIMIT $1
  FOR UPDATE SKIP LOCKED
)
SELECT id FROM (SELECT * FROM stamped UNION ALL SELECT * FROM bare) AS candidates
ORDER BY at, id
LIMIT $1
