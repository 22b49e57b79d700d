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

-- name: tables
-- No parameters. Idempotent (run on every open, after migrateRunSeq when due).
-- Layout 2: each run has an integer `seq` (its rowid, in creation order) and step records
-- are keyed by (run_seq, step_id), so the records of new runs append at the end of the
-- steps b-tree instead of landing on a random page chosen by the run's UUID (measured: a
-- 10-step run wrote 17.8 step pages to the WAL with UUID keys). A deleted run's steps are
-- deleted in the same transaction, so a reused seq never meets stale records.
CREATE TABLE IF NOT EXISTS majra_workflow_runs (
  seq              INTEGER PRIMARY KEY,
  id               TEXT    NOT NULL UNIQUE,
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
CREATE TABLE IF NOT EXISTS majra_workflow_steps (
  run_seq          INTEGER NOT NULL,
  step_id          TEXT    NOT NULL,
  status           TEXT    NOT NULL,
  attempt          INTEGER NOT NULL,
  output_json      TEXT    NOT NULL,
  error            TEXT,
  started_at       INTEGER,
  completed_at     INTEGER,
  duration_ms      INTEGER,
  fallback_step_id TEXT,
  written_at       INTEGER,
  PRIMARY KEY (run_seq, step_id)
) WITHOUT ROWID;

-- name: hasWrittenAt
-- No parameters. One row when majra_workflow_steps has written_at (migration 0003).
SELECT 1 FROM pragma_table_info('majra_workflow_steps') WHERE name = 'written_at';

-- name: addWrittenAt
-- Migration 0003: step records carry the store time of their write, from which a run's
-- updatedAt is read (see runColumns), so a step write no longer rewrites the run row
-- (measured: that touch wrote a second WAL page per step commit, ~8 us of CPU per step).
-- Records written before it have NULL and count for nothing (their run row was touched).
ALTER TABLE majra_workflow_steps ADD COLUMN written_at INTEGER;

-- name: indexes
-- No parameters. Idempotent (run on every open, after `tables`).
CREATE INDEX IF NOT EXISTS majra_workflow_runs_created
  ON majra_workflow_runs (created_at, id);
CREATE INDEX IF NOT EXISTS majra_workflow_runs_workflow
  ON majra_workflow_runs (workflow_id, created_at, id);
-- Retention index. It does not cover updated_at: the run writes that touch updated_at
-- (claims, renewals) would pay for it, and an index whose expression reads it made that
-- touch several times dearer even for rows outside the partial index (measured: ~4x).
-- Its condition is written with OR, not `status IN (...)`: SQLite evaluates an IN list
-- there through a temporary b-tree built on every run update that changes the status
-- (measured from C on this build: ~30 us of CPU per finished run, 10% of a 10-step run).
-- The retention statements repeat the condition word for word, which is what lets the
-- planner use this partial index. Files from earlier versions carry
-- majra_workflow_runs_finished or majra_workflow_runs_completed (the IN form): dropped.
DROP INDEX IF EXISTS majra_workflow_runs_finished;
DROP INDEX IF EXISTS majra_workflow_runs_completed;
CREATE INDEX IF NOT EXISTS majra_workflow_runs_done
  ON majra_workflow_runs (completed_at, id)
  WHERE status = 'completed' OR status = 'failed' OR status = 'cancelled';

-- name: hasLayout1
-- No parameters. One row when the file has layout 1 (step records keyed by run_id text).
SELECT 1 FROM pragma_table_info('majra_workflow_steps') WHERE name = 'run_id';

-- name: migrateRunSeqBegin
-- Migration 0002, layout 1 to layout 2, part 1 (run inside one immediate transaction
-- with parts 2 and 3, between which `tables` creates the new tables). Moves the layout-1
-- tables aside; their indexes go with the tables, under names `indexes` reuses, so they
-- are dropped here.
DROP INDEX IF EXISTS majra_workflow_runs_created;
DROP INDEX IF EXISTS majra_workflow_runs_workflow;
DROP INDEX IF EXISTS majra_workflow_runs_finished;
DROP INDEX IF EXISTS majra_workflow_runs_completed;
DROP INDEX IF EXISTS majra_workflow_runs_done;
ALTER TABLE majra_workflow_runs RENAME TO majra_workflow_runs_layout1;
ALTER TABLE majra_workflow_steps RENAME TO majra_workflow_steps_layout1;

-- name: migrateRunSeqCopy
-- Migration 0002, part 2: copies runs in creation order (so seq follows it) and their
-- step records (a record without its run is dropped), then drops the layout-1 tables.
INSERT INTO majra_workflow_runs
  (id, workflow_id, definition_hash, status, input_json, output_json, error,
   created_at, started_at, completed_at, updated_at, owner, lease_expires_at)
SELECT id, workflow_id, definition_hash, status, input_json, output_json, error,
       created_at, started_at, completed_at, updated_at, owner, lease_expires_at
FROM majra_workflow_runs_layout1 ORDER BY created_at, id;
INSERT INTO majra_workflow_steps
  (run_seq, step_id, status, attempt, output_json, error, started_at, completed_at,
   duration_ms, fallback_step_id)
SELECT r.seq, s.step_id, s.status, s.attempt, s.output_json, s.error, s.started_at,
       s.completed_at, s.duration_ms, s.fallback_step_id
FROM majra_workflow_steps_layout1 AS s JOIN majra_workflow_runs AS r ON r.id = s.run_id;
DROP TABLE majra_workflow_steps_layout1;
DROP TABLE majra_workflow_runs_layout1;

-- name: runUpdatedAt
-- Fragment, not a statement (`{{runUpdatedAt}}`, FROM majra_workflow_runs AS r): a run's
-- updatedAt, the later of the run row's and its latest step write's (migration 0003).
MAX(r.updated_at, IFNULL((SELECT MAX(s.written_at) FROM majra_workflow_steps AS s
                          WHERE s.run_seq = r.seq), r.updated_at))

-- name: runColumns
-- Fragment: the columns of a run row as RunRow reads them (`{{runColumns}}`).
r.id, r.workflow_id, r.definition_hash, r.status, r.input_json, r.output_json, r.error,
r.created_at, r.started_at, r.completed_at, {{runUpdatedAt}} AS updated_at,
r.owner, r.lease_expires_at

-- name: getRun
-- ? = run id.
SELECT {{runColumns}} FROM majra_workflow_runs AS r WHERE r.id = ?;

-- name: countRuns
-- No parameters.
SELECT COUNT(*) AS n FROM majra_workflow_runs;

-- name: insertRun
-- Positional ? (cheaper to bind than names), in order: id, workflowId, definitionHash,
-- status, input (JSON text), now (created_at), startedAt, now (updated_at), owner, lease
-- expiry. A run id that exists fails on the UNIQUE id (SQLITE_CONSTRAINT_UNIQUE), which
-- the store reports as ERR_WORKFLOW_RUN_EXISTS (no separate lookup first).
INSERT INTO majra_workflow_runs
  (id, workflow_id, definition_hash, status, input_json, output_json, error,
   created_at, started_at, completed_at, updated_at, owner, lease_expires_at)
VALUES (?, ?, ?, ?, ?, 'null', NULL, ?, ?, NULL, ?, ?, ?);

-- name: updateRun
-- Fenced patch. Positional ?, in order: for each field a flag (0/1) and the value:
-- status, output (JSON text), error, startedAt, completedAt; then now, terminal (0/1:
-- releases the lease) twice, the run id, the owner.
UPDATE majra_workflow_runs SET
  status = CASE WHEN ? THEN ? ELSE status END,
  output_json = CASE WHEN ? THEN ? ELSE output_json END,
  error = CASE WHEN ? THEN ? ELSE error END,
  started_at = CASE WHEN ? THEN ? ELSE started_at END,
  completed_at = CASE WHEN ? THEN ? ELSE completed_at END,
  updated_at = ?,
  owner = CASE WHEN ? THEN NULL ELSE owner END,
  lease_expires_at = CASE WHEN ? THEN NULL ELSE lease_expires_at END
WHERE id = ? AND owner = ?;

-- name: listRuns
-- @workflowId (or NULL for all), @statuses (JSON array text, or NULL for all), @limit, @offset.
SELECT {{runColumns}} FROM majra_workflow_runs AS r
WHERE (@workflowId IS NULL OR r.workflow_id = @workflowId)
  AND (@statuses IS NULL OR r.status IN (SELECT value FROM json_each(@statuses)))
ORDER BY r.created_at, r.id
LIMIT @limit OFFSET @offset;

-- name: listResumable
-- @now, @limit. Unfinished runs with no live lease.
SELECT {{runColumns}} FROM majra_workflow_runs AS r
WHERE r.status IN ('pending', 'running')
  AND (r.owner IS NULL OR r.lease_expires_at IS NULL OR r.lease_expires_at <= @now)
ORDER BY r.created_at, r.id
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

-- name: stepUpsert
-- Fragment (`{{stepUpsert}}`): what a step write does to an existing record of the same
-- (run, step): replaces every field, so a record is always the last one written.
ON CONFLICT (run_seq, step_id) DO UPDATE SET
  status = excluded.status,
  attempt = excluded.attempt,
  output_json = excluded.output_json,
  error = excluded.error,
  started_at = excluded.started_at,
  completed_at = excluded.completed_at,
  duration_ms = excluded.duration_ms,
  fallback_step_id = excluded.fallback_step_id,
  written_at = excluded.written_at

-- name: saveStep
-- The fenced write of one step record, one statement (so, alone, one implicit
-- transaction: no BEGIN/COMMIT statements). Positional ? (cheaper to bind than names;
-- better-sqlite3 binds ?NNN by name, so they are plain ? in text order): writtenAt (now),
-- stepId, status, attempt, output (JSON text), error, startedAt, completedAt, durationMs,
-- fallbackStepId, then the run id and the owner. Writes nothing (0 changes) unless the
-- owner holds the run's lease; the run row is only read.
INSERT INTO majra_workflow_steps
  (run_seq, written_at, step_id, status, attempt, output_json, error, started_at,
   completed_at, duration_ms, fallback_step_id)
SELECT seq, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
FROM majra_workflow_runs WHERE id = ? AND owner = ?
{{stepUpsert}};

-- name: saveStepPair
-- saveStep for two records of one run with different step ids (a linear step's outcome
-- and its successor's start), so their order does not matter. ? in order: writtenAt,
-- the nine fields of the first, the nine of the second, the run id, the owner.
INSERT INTO majra_workflow_steps
  (run_seq, step_id, status, attempt, output_json, error, started_at, completed_at,
   duration_ms, fallback_step_id, written_at)
SELECT r.seq, v.column1, v.column2, v.column3, v.column4, v.column5, v.column6, v.column7,
       v.column8, v.column9, ?
FROM majra_workflow_runs AS r,
     (VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?, ?, ?, ?)) AS v
WHERE r.id = ? AND r.owner = ?
{{stepUpsert}};

-- name: upsertStep
-- A step record of a run being created (unfenced: same transaction as the run's insert).
-- Positional ?, in order: the run's seq, the nine record fields of saveStep, now.
-- Replaces the whole record.
INSERT INTO majra_workflow_steps
  (run_seq, step_id, status, attempt, output_json, error, started_at, completed_at,
   duration_ms, fallback_step_id, written_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
{{stepUpsert}};

-- name: getSteps
-- ? = run id. Ordered by started_at (NULL last), then step id.
SELECT r.id AS run_id, s.step_id, s.status, s.attempt, s.output_json, s.error, s.started_at,
       s.completed_at, s.duration_ms, s.fallback_step_id
FROM majra_workflow_runs AS r JOIN majra_workflow_steps AS s ON s.run_seq = r.seq
WHERE r.id = ?
ORDER BY s.started_at IS NULL, s.started_at, s.step_id;

-- name: deleteSteps
-- ? = run id.
DELETE FROM majra_workflow_steps
WHERE run_seq = (SELECT seq FROM majra_workflow_runs WHERE id = ?);

-- name: deleteRun
-- ? = run id.
DELETE FROM majra_workflow_runs WHERE id = ?;

-- name: expiredRuns
-- @cutoff = now - finishedRunTtlMs. Finished runs whose COALESCE(completed_at, updatedAt)
-- is at or before the cutoff, written as two index range scans (completed_at set / NULL).
SELECT id FROM majra_workflow_runs
WHERE (status = 'completed' OR status = 'failed' OR status = 'cancelled')
  AND completed_at <= @cutoff
UNION ALL
SELECT r.id FROM majra_workflow_runs AS r
WHERE (r.status = 'completed' OR r.status = 'failed' OR r.status = 'cancelled') AND r.completed_at IS NULL
  AND {{runUpdatedAt}} <= @cutoff;

-- name: oldestFinished
-- @limit = how many. Finished runs, oldest COALESCE(completed_at, updatedAt) first, then id.
SELECT id FROM (
  SELECT * FROM (
    SELECT id, completed_at AS at FROM majra_workflow_runs
    WHERE (status = 'completed' OR status = 'failed' OR status = 'cancelled')
      AND completed_at IS NOT NULL
    ORDER BY completed_at, id
    LIMIT @limit
  )
  UNION ALL
  SELECT r.id, {{runUpdatedAt}} AS at FROM majra_workflow_runs AS r
  WHERE (r.status = 'completed' OR r.status = 'failed' OR r.status = 'cancelled') AND r.completed_at IS NULL
)
ORDER BY at, id
LIMIT @limit;
