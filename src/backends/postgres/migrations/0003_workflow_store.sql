-- Migration 0003: runs and step records of PostgresWorkflowStore (the WorkflowStore port).
--
-- Placeholder: {{schema}} is replaced by the quoted schema identifier; this file takes
-- no parameters. Append-only: never edit after release; add 0004_*.sql.
--
-- Times are epoch milliseconds from the store's injected clock (float8, verbatim).
-- JSON columns hold JSON.stringify text (the text 'null' for none); statuses are bare
-- words. owner / lease_expires_at are the lease: every engine write is fenced by owner.
-- This is NOT the Rust majra_workflow_runs layout (see docs/postgres.md).
CREATE TABLE {{schema}}.majra_workflow_runs (
  id TEXT PRIMARY KEY,
  workflow_id TEXT NOT NULL,
  definition_hash TEXT NOT NULL,
  status TEXT NOT NULL,
  input_json TEXT NOT NULL,
  output_json TEXT NOT NULL,
  error TEXT,
  created_at DOUBLE PRECISION NOT NULL,
  started_at DOUBLE PRECISION,
  completed_at DOUBLE PRECISION,
  updated_at DOUBLE PRECISION NOT NULL,
  owner TEXT,
  lease_expires_at DOUBLE PRECISION
);

CREATE INDEX majra_workflow_runs_created ON {{schema}}.majra_workflow_runs (created_at, id);
CREATE INDEX majra_workflow_runs_workflow
  ON {{schema}}.majra_workflow_runs (workflow_id, created_at, id);
CREATE INDEX majra_workflow_runs_finished
  ON {{schema}}.majra_workflow_runs ((COALESCE(completed_at, updated_at)), id)
  WHERE status IN ('completed', 'failed', 'cancelled');
CREATE INDEX majra_workflow_runs_unfinished
  ON {{schema}}.majra_workflow_runs (created_at, id)
  WHERE status IN ('pending', 'running');

CREATE TABLE {{schema}}.majra_workflow_steps (
  run_id TEXT NOT NULL,
  step_id TEXT NOT NULL,
  status TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  output_json TEXT NOT NULL,
  error TEXT,
  started_at DOUBLE PRECISION,
  completed_at DOUBLE PRECISION,
  duration_ms DOUBLE PRECISION,
  fallback_step_id TEXT,
  PRIMARY KEY (run_id, step_id)
);
