-- SQL of SqliteQueueStore (src/backends/sqlite/queue-store.ts). One file, several
-- statements, each introduced by a `-- name: <key>` line. Every statement is
-- parameterised with named parameters (@name); table and column names are fixed.
--
-- Table majra_queue_jobs holds the jobs of every queue in the file, scoped by `queue`.
-- Timestamps are wall-clock epoch milliseconds. `state` is the bare lower-case word
-- (queued, running, completed, failed, cancelled). gpu_count/vram_mb are both NULL for
-- a job without a resource request. This schema is NOT the Rust majra `managed_queue`
-- table (see docs/queue.md).

-- name: schema
-- No parameters. Idempotent.
CREATE TABLE IF NOT EXISTS majra_queue_jobs (
  queue       TEXT    NOT NULL,
  id          TEXT    NOT NULL,
  seq         INTEGER NOT NULL,
  priority    INTEGER NOT NULL CHECK (priority BETWEEN 0 AND 4),
  state       TEXT    NOT NULL,
  payload     TEXT    NOT NULL,
  gpu_count   INTEGER,
  vram_mb     INTEGER,
  attempts    INTEGER NOT NULL DEFAULT 0,
  enqueued_at INTEGER NOT NULL,
  started_at  INTEGER,
  finished_at INTEGER,
  PRIMARY KEY (queue, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS majra_queue_jobs_seq ON majra_queue_jobs (queue, seq);

-- name: insert
-- @queue, @id, @seq, @priority, @state, @payload, @gpuCount, @vramMb, @attempts,
-- @enqueuedAt, @startedAt, @finishedAt. Fails with SQLITE_CONSTRAINT_PRIMARYKEY when
-- (queue, id) exists.
INSERT INTO majra_queue_jobs
  (queue, id, seq, priority, state, payload, gpu_count, vram_mb, attempts,
   enqueued_at, started_at, finished_at)
VALUES
  (@queue, @id, @seq, @priority, @state, @payload, @gpuCount, @vramMb, @attempts,
   @enqueuedAt, @startedAt, @finishedAt);

-- name: transition
-- @queue, @id, @from, @to, @attempts, @startedAt, @finishedAt. Compare-and-set on the
-- current state: changes() = 0 means the row is missing or not in @from.
UPDATE majra_queue_jobs
   SET state = @to, attempts = @attempts, started_at = @startedAt, finished_at = @finishedAt
 WHERE queue = @queue AND id = @id AND state = @from;

-- name: load
-- @queue. Every row of the queue in arrival order.
SELECT id, seq, priority, state, payload, gpu_count, vram_mb, attempts,
       enqueued_at, started_at, finished_at
  FROM majra_queue_jobs
 WHERE queue = @queue
 ORDER BY seq;

-- name: remove
-- @queue, @id. Run once per id inside one transaction.
DELETE FROM majra_queue_jobs WHERE queue = @queue AND id = @id;
