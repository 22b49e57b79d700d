-- Migration 0001: the durable job queue (PostgresJobQueue).
--
-- Placeholder: {{schema}} is replaced by the quoted schema identifier; this file takes
-- no parameters. Applied once, inside the migration transaction, under the per-schema
-- advisory lock. Append-only: never edit this file after release; add 0002_*.sql.
--
-- state: queued (waiting, maybe until run_at) -> running (leased until lease_until)
--        -> completed | dead (attempts exhausted) | cancelled.
-- attempts counts claims and doubles as the fencing token for ack/nack/renew.
CREATE TABLE {{schema}}.majra_jobs (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  queue TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'queued'
    CHECK (state IN ('queued', 'running', 'completed', 'dead', 'cancelled')),
  priority INTEGER NOT NULL DEFAULT 0,
  payload TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
  run_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  lease_until TIMESTAMPTZ,
  worker TEXT,
  idempotency_key TEXT,
  last_error TEXT,
  result TEXT,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  started_at TIMESTAMPTZ,
  finished_at TIMESTAMPTZ
) WITH (fillfactor = 80);

-- Claim order: highest priority first, FIFO (id) within a priority.
CREATE INDEX majra_jobs_claim ON {{schema}}.majra_jobs (queue, priority DESC, id)
  WHERE state = 'queued';
-- Reaper: running jobs whose lease expired.
CREATE INDEX majra_jobs_lease ON {{schema}}.majra_jobs (lease_until)
  WHERE state = 'running';
-- Retention sweeper: finished jobs by age.
CREATE INDEX majra_jobs_finished ON {{schema}}.majra_jobs (finished_at)
  WHERE state IN ('completed', 'dead', 'cancelled');
-- Idempotency keys are unique per queue while the job row exists.
CREATE UNIQUE INDEX majra_jobs_idempotency ON {{schema}}.majra_jobs (queue, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
