-- SQL of SqliteWorkflowStore (src/backends/sqlite/workflow-store.ts). One file, several
-- statements, each introduced by a `-- name: <key>` line. Every statement is
-- parameterised (@name or ?); table and column names are fixed.
--
-- majra_workflow_runs holds one row per run, majra_workflow_steps one row per (run, step).
-- Times are epoch milliseconds from the store's injected clock. JSON columns hold
-- `JSON.stringify` text (the text `null` for none). Status columns hold the bare
-- lower-case word. `owner`/`lease_expires_at` are the lease: every engine write is fenced
-- by `owner = @owner`. This schema is NOT the Rust majra `workflow_runs` layout (see
-- docs/workflow.md).

-- name: schema
-- No parameters. Idempotent (run on every open).
CREATE TABLE IF NOT EXISTS majra_workflow_runs (
  id               TEXT    NOT NULL PRIMARY KEY,
  workflow_id      TEXT    NOT NULL,
  definition_hash  TEXT    NOT NULL,
  status           TEXT    NOT NULL,
  input_json       TEXT    NOT NULL,
  output_json      TEXT    NOT NULL,
  error            TEXT,
  created_at       INTEGER NOT NULL,
  started_at       INTEGER,
  completed_at     INTEGER,
  updated_at       INTEGER NOT NULL,
  owner            TEXT,
  lease_expires_at INTEGER
);
CREATE INDEX IF NOT EXISTS majra_workflow_runs_created
  ON majra_workflow_runs (created_at, id);
CREATE INDEX IF NOT EXISTS majra_workflow_runs_workflow
  ON majra_workflow_runs (workflow_id, created_at, id);
-- Retention index. It must not cover updated_at: every step write touches updated_at,
-- and an index whose expression reads it makes that touch several times dearer even for
-- rows outside the partial index (measured: ~4x). Files created before this index
-- existed carry majra_workflow_runs_finished, which is dropped here.
DROP INDEX IF EXISTS majra_workflow_runs_finished;
CREATE INDEX IF NOT EXISTS majra_workflow_runs_completed
  ON majra_workflow_runs (completed_at, id)
  WHERE status IN ('completed', 'failed', 'cancelled');
CREATE TABLE IF NOT EXISTS majra_workflow_steps (
  run_id           TEXT    NOT NULL,
  step_id          TEXT    NOT NULL,
  status           TEXT    NOT NULL,
  attempt          INTEGER NOT NULL,
  output_json      TEXT    NOT NULL,
  error            TEXT,
  started_at       INTEGER,
  completed_at     INTEGER,
  duration_ms      INTEGER,
  fallback_step_id TEXT,
  PRIMARY KEY (run_id, step_id)
) WITHOUT ROWID;

-- name: runExists
-- ? = run id.
SELECT 1 FROM majra_workflow_runs WHERE id = ?;

-- name: getRun
-- ? = run id.
SELECT * FROM majra_workflow_runs WHERE id = ?;

-- name: countRuns
-- No parameters.
SELECT COUNT(*) AS n FROM majra_workflow_runs;

-- name: insertRun
-- @id, @workflowId, @hash, @status, @input (JSON text), @now, @startedAt, @owner,
-- @expires (lease expiry). The caller checked the id is new.
INSERT INTO majra_workflow_runs
  (id, workflow_id, definition_hash, status, input_json, output_json, error,
   created_at, started_at, completed_at, updated_at, owner, lease_expires_at)
VALUES
  (@id, @workflowId, @hash, @status, @input, 'null', NULL,
   @now, @startedAt, NULL, @now, @owner, @expires);

-- name: updateRun
-- Fenced patch. @id, @owner, @now; for each field a flag @hasX (0/1) and the value @X:
-- status, output (JSON text), error, startedAt, completedAt; @terminal (0/1) releases the lease.
UPDATE majra_workflow_runs SET
  status = CASE WHEN @hasStatus THEN @status ELSE status END,
  output_json = CASE WHEN @hasOutput THEN @output ELSE output_json END,
  error = CASE WHEN @hasError THEN @error ELSE error END,
  started_at = CASE WHEN @hasStartedAt THEN @startedAt ELSE started_at END,
  completed_at = CASE WHEN @hasCompletedAt THEN @completedAt ELSE completed_at END,
  updated_at = @now,
  owner = CASE WHEN @terminal THEN NULL ELSE owner END,
  lease_expires_at = CASE WHEN @terminal THEN NULL ELSE lease_expires_at END
WHERE id = @id AND owner = @owner;

-- name: listRuns
-- @workflowId (or NULL for all), @statuses (JSON array text, or NULL for all), @limit, @offset.
SELECT * FROM majra_workflow_runs
WHERE (@workflowId IS NULL OR workflow_id = @workflowId)
  AND (@statuses IS NULL OR status IN (SELECT value FROM json_each(@statuses)))
ORDER BY created_at, id
LIMIT @limit OFFSET @offset;

-- name: listResumable
-- @now, @limit. Unfinished runs with no live lease.
SELECT * FROM majra_workflow_runs
WHERE status IN ('pending', 'running')
  AND (owner IS NULL OR lease_expires_at IS NULL OR lease_expires_at <= @now)
ORDER BY created_at, id
LIMIT @limit;

-- name: claimRun
-- @id, @owner, @now, @expires. Changes one row only when the lease is free, expired or ours.
UPDATE majra_workflow_runs SET owner = @owner, lease_expires_at = @expires, updated_at = @now
WHERE id = @id
  AND (owner IS NULL OR owner = @owner OR lease_expires_at IS NULL OR lease_expires_at <= @now);

-- name: renewLease
-- @id, @owner, @now, @expires.
UPDATE majra_workflow_runs SET lease_expires_at = @expires, updated_at = @now
WHERE id = @id AND owner = @owner;

-- name: releaseRun
-- @id, @owner, @now.
UPDATE majra_workflow_runs SET owner = NULL, lease_expires_at = NULL, updated_at = @now
WHERE id = @id AND owner = @owner;

-- name: touchRun
-- @id, @owner, @now. The fence of a step write: changes no row when @owner lost the lease.
UPDATE majra_workflow_runs SET updated_at = @now WHERE id = @id AND owner = @owner;

-- name: upsertStep
-- @runId, @stepId, @status, @attempt, @output (JSON text), @error, @startedAt,
-- @completedAt, @durationMs, @fallbackStepId. Replaces the whole record.
INSERT INTO majra_workflow_steps
  (run_id, step_id, status, attempt, output_json, error, started_at, completed_at,
   duration_ms, fallback_step_id)
VALUES
  (@runId, @stepId, @status, @attempt, @output, @error, @startedAt, @completedAt,
   @durationMs, @fallbackStepId)
ON CONFLICT (run_id, step_id) DO UPDATE SET
  status = excluded.status,
  attempt = excluded.attempt,
  output_json = excluded.output_json,
  error = excluded.error,
  started_at = excluded.started_at,
  completed_at = excluded.completed_at,
  duration_ms = excluded.duration_ms,
  fallback_step_id = excluded.fallback_step_id;

-- name: getSteps
-- ? = run id. Ordered by started_at (NULL last), then step id.
SELECT * FROM majra_workflow_steps WHERE run_id = ?
ORDER BY started_at IS NULL, started_at, step_id;

-- name: deleteSteps
-- ? = run id.
DELETE FROM majra_workflow_steps WHERE run_id = ?;

-- name: deleteRun
-- ? = run id.
DELETE FROM majra_workflow_runs WHERE id = ?;

-- name: expiredRuns
-- @cutoff = now - finishedRunTtlMs. Finished runs whose COALESCE(completed_at, updated_at)
-- is at or before the cutoff, written as two index range scans (completed_at set / NULL).
SELECT id FROM majra_workflow_runs
WHERE status IN ('completed', 'failed', 'cancelled') AND completed_at <= @cutoff
UNION ALL
SELECT id FROM majra_workflow_runs
WHERE status IN ('completed', 'failed', 'cancelled') AND completed_at IS NULL
  AND updated_at <= @cutoff;

-- name: oldestFinished
-- @limit = how many. Finished runs, oldest COALESCE(completed_at, updated_at) first, then id.
SELECT id FROM (
  SELECT * FROM (
    SELECT id, completed_at AS at FROM majra_workflow_runs
    WHERE status IN ('completed', 'failed', 'cancelled') AND completed_at IS NOT NULL
    ORDER BY completed_at, id
    LIMIT @limit
  )
  UNION ALL
  SELECT id, updated_at AS at FROM majra_workflow_runs
  WHERE status IN ('completed', 'failed', 'cancelled') AND completed_at IS NULL
)
ORDER BY at, id
LIMIT @limit;
