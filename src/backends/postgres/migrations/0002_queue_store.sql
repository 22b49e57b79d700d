-- Migration 0002: rows of PostgresQueueStore (the QueueStore port of ManagedQueue).
--
-- Placeholder: {{schema}} is replaced by the quoted schema identifier; this file takes
-- no parameters. Append-only: never edit after release; add 0003_*.sql.
--
-- One table for every managed queue of the schema, scoped by `queue`. Timestamps are
-- the queue clock's epoch milliseconds, stored as float8 so they round-trip verbatim.
-- `state` is the bare word (queued, running, completed, failed, cancelled).
-- gpu_count/vram_mb are both NULL for a job without a resource request.
CREATE TABLE {{schema}}.majra_queue_jobs (
  queue TEXT NOT NULL,
  id TEXT NOT NULL,
  seq BIGINT NOT NULL,
  priority SMALLINT NOT NULL CHECK (priority BETWEEN 0 AND 4),
  state TEXT NOT NULL,
  payload TEXT NOT NULL,
  gpu_count BIGINT,
  vram_mb BIGINT,
  attempts INTEGER NOT NULL DEFAULT 0,
  enqueued_at DOUBLE PRECISION NOT NULL,
  started_at DOUBLE PRECISION,
  finished_at DOUBLE PRECISION,
  PRIMARY KEY (queue, id)
);

CREATE INDEX majra_queue_jobs_seq ON {{schema}}.majra_queue_jobs (queue, seq);
