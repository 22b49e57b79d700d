-- Migration 0004: the retention index of majra_workflow_runs no longer covers updated_at.
--
-- Placeholder: {{schema}} is replaced by the quoted schema identifier; this file takes
-- no parameters. Append-only: never edit after release; add 0005_*.sql.
--
-- Every step write touches the run's updated_at. While an index expression read that
-- column, each touch was a non-HOT update writing a new entry into every index of the
-- table; with no index on updated_at it is a HOT update. Retention queries now scan
-- completed_at (set on every finished run the engine writes) and treat the rare finished
-- run without completed_at, measured from updated_at, separately.
DROP INDEX {{schema}}.majra_workflow_runs_finished;

CREATE INDEX majra_workflow_runs_completed
  ON {{schema}}.majra_workflow_runs (completed_at, id)
  WHERE status IN ('completed', 'failed', 'cancelled');
