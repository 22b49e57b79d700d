// Shared fixtures of the SqliteWorkflowStore integration tests: database files in a temp
// directory removed after the test file, and a minimal run to create.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/**
 * Makes a temp directory for the calling test file and registers its removal after all
 * of the file's tests; `file()` names a fresh database file in it on every call.
 */
export function useDatabaseFiles(): { readonly dir: string; readonly file: () => string } {
  const dir = mkdtempSync(join(tmpdir(), 'majra-wf-sqlite-'));
  let n = 0;
  const file = (): string => join(dir, `db-${n++}.db`);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return { dir, file };
}

/** A running run of workflow 'wf' with id `id`, for createRun. */
export const newRun = (id: string) => ({
  id,
  workflowId: 'wf',
  definitionHash: 'h',
  status: 'running' as const,
  input: { x: 1 },
  startedAt: 1,
});
