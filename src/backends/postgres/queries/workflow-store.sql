-- Statements of PostgresWorkflowStore. Each block starts with `-- name: <id>`; the
-- comment lines under it document its `$n` parameters. {{schema}} is the quoted schema
-- identifier; every value is a parameter. Times are the store clock's epoch ms.

-- name: insertRun
-- $1 id, $2 workflow id, $3 definition hash, $4 status, $5 input JSON text, $6 now,
-- $7 started_at, $8 owner, $9 lease expiry; then the step records stored with the run,
-- one array per field (empty arrays for none): $10 step ids, $11 statuses, $12 attempts,
-- $13 output JSON texts, $14 errors, $15 started_at, $16 completed_at, $17 duration_ms,
-- $18 fallback step ids. No row returned (and no step written) when the id exists.
WITH run AS (
  INSERT INTO {{schema}}.majra_workflow_runs
    (id, workflow_id, definition_hash, status, input_json, output_json, error,
     created_at, started_at, completed_at, updated_at, owner, lease_expires_at)
  VALUES ($1, $2, $3, $4, $5, 'null', NULL, $6, $7, NULL, $6, $8, $9)
  ON CONFLICT (id) DO NOTHING
  RETURNING id
), steps AS (
  -- Step rows of a deleted run are deleted with it, so none can exist for a new id.
  INSERT INTO {{schema}}.majra_workflow_steps
    (run_id, step_id, status, attempt, output_json, error, started_at, completed_at,
     duration_ms, fallback_step_id)
  SELECT run.id, t.step_id, t.status, t.attempt, t.output_json, t.error, t.started_at,
         t.completed_at, t.duration_ms, t.fallback_step_id
  FROM run, unnest(
    $10::text[], $11::text[], $12::int[], $13::text[], $14::text[], $15::float8[],
    $16::float8[], $17::float8[], $18::text[]
  ) AS t(step_id, status, attempt, output_json, error, started_at, completed_at,
         duration_ms, fallback_step_id)
)
SELECT id FROM run

-- name: getRun
-- $1 run id.
SELECT * FROM {{schema}}.majra_workflow_runs WHERE id = $1

-- name: countRuns
-- No parameters.
SELECT count(*)::int AS n FROM {{schema}}.majra_workflow_runs

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
-- A group commit of queued step writes and run updates, in one statement. $1 now; then
-- one array per field, index i describing the i-th step write in call order: $2 owners,
-- $3 run ids, $4 step ids, $5 statuses, $6 attempts, $7 output JSON texts, $8 errors,
-- $9 started_at, $10 completed_at, $11 duration_ms, $12 fallback step ids. Then the run
-- updates, at most one per run (a write that follows one goes in the next batch), as
-- `saveRunSteps` takes one, one array per field: $13 run ids, $14 owners, $15/$16 status,
-- $17/$18 output JSON text, $19/$20 error, $21/$22 started_at, $23/$24 completed_at
-- (flag, value), $25 terminal (releases the lease). Each (run, owner) pair is touched once
-- and fenced: the writes of a pair whose owner lost the lease write nothing. Of several
-- writes to one (run, step) the last in call order wins. Returns the (run_id, owner)
-- pairs that held the lease.
WITH input AS (
  SELECT * FROM unnest(
    $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::text[],
    $9::float8[], $10::float8[], $11::float8[], $12::text[]
  ) WITH ORDINALITY AS t(owner, run_id, step_id, status, attempt, output_json, error,
                         started_at, completed_at, duration_ms, fallback_step_id, ord)
), updates AS (
  SELECT * FROM unnest(
    $13::text[], $14::text[], $15::boolean[], $16::text[], $17::boolean[], $18::text[],
    $19::boolean[], $20::text[], $21::boolean[], $22::float8[], $23::boolean[],
    $24::float8[], $25::boolean[]
  ) AS u(run_id, owner, has_status, status, has_output, output_json, has_error, error,
         has_started_at, started_at, has_completed_at, completed_at, terminal)
), pairs AS (
  SELECT p.run_id, p.owner, u.run_id IS NOT NULL AS patched, u.has_status, u.status,
         u.has_output, u.output_json, u.has_error, u.error, u.has_started_at, u.started_at,
         u.has_completed_at, u.completed_at, COALESCE(u.terminal, false) AS terminal
  FROM (
    SELECT run_id, owner FROM input
    UNION
    SELECT run_id, owner FROM updates
  ) AS p
  LEFT JOIN updates AS u ON u.run_id = p.run_id AND u.owner = p.owner
), touched AS (
  -- One UPDATE per run row: a statement cannot update a row twice.
  UPDATE {{schema}}.majra_workflow_runs AS r SET
    updated_at = $1,
    status = CASE WHEN p.patched AND p.has_status THEN p.status ELSE r.status END,
    output_json = CASE WHEN p.patched AND p.has_output THEN p.output_json ELSE r.output_json END,
    error = CASE WHEN p.patched AND p.has_error THEN p.error ELSE r.error END,
    started_at = CASE WHEN p.patched AND p.has_started_at THEN p.started_at ELSE r.started_at END,
    completed_at =
      CASE WHEN p.patched AND p.has_completed_at THEN p.completed_at ELSE r.completed_at END,
    owner = CASE WHEN p.terminal THEN NULL ELSE r.owner END,
    lease_expires_at = CASE WHEN p.terminal THEN NULL ELSE r.lease_expires_at END
  FROM pairs AS p
  WHERE r.id = p.run_id AND r.owner = p.owner
  RETURNING r.id, p.owner
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

-- name: saveRunSteps
-- The group commit of a batch whose writes all come from one owner for one run (a linear
-- workflow's batches): the same effect as `saveSteps`, with a plan about half as dear.
-- $1 now, $2 run id, $3 owner; the step records, one array per field, distinct step ids:
-- $4 step ids, $5 statuses, $6 attempts, $7 output JSON texts, $8 errors, $9 started_at,
-- $10 completed_at, $11 duration_ms, $12 fallback step ids; then the run update (flags
-- false for none): $13/$14 status, $15/$16 output JSON text, $17/$18 error,
-- $19/$20 started_at, $21/$22 completed_at, $23 terminal. One row when the owner held the lease.
WITH touched AS (
  UPDATE {{schema}}.majra_workflow_runs SET
    updated_at = $1,
    status = CASE WHEN $13::boolean THEN $14::text ELSE status END,
    output_json = CASE WHEN $15::boolean THEN $16::text ELSE output_json END,
    error = CASE WHEN $17::boolean THEN $18::text ELSE error END,
    started_at = CASE WHEN $19::boolean THEN $20::float8 ELSE started_at END,
    completed_at = CASE WHEN $21::boolean THEN $22::float8 ELSE completed_at END,
    owner = CASE WHEN $23::boolean THEN NULL ELSE owner END,
    lease_expires_at = CASE WHEN $23::boolean THEN NULL ELSE lease_expires_at END
  WHERE id = $2 AND owner = $3
  RETURNING id
), written AS (
  INSERT INTO {{schema}}.majra_workflow_steps
    (run_id, step_id, status, attempt, output_json, error, started_at, completed_at,
     duration_ms, fallback_step_id)
  SELECT touched.id, t.step_id, t.status, t.attempt, t.output_json, t.error, t.started_at,
         t.completed_at, t.duration_ms, t.fallback_step_id
  FROM touched, unnest(
    $4::text[], $5::text[], $6::int[], $7::text[], $8::text[], $9::float8[],
    $10::float8[], $11::float8[], $12::text[]
  ) AS t(step_id, status, attempt, output_json, error, started_at, completed_at,
         duration_ms, fallback_step_id)
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
SELECT id FROM touched

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
