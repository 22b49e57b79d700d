// Writes SqliteWorkflowStore's statements (workflow-store.sql, fragments expanded) to the
// directory given as argument, one <name>.sql each, for floor.c (see run.sh).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from '../../src/backends/sqlite/workflow-store-sql.js';

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: statements.ts <directory>');
mkdirSync(dir, { recursive: true });
for (const name of [
  'tables',
  'indexes',
  'insertRun',
  'upsertStep',
  'saveStepPair',
  'saveStep',
  'updateRun',
]) {
  writeFileSync(join(dir, `${name}.sql`), sql(name));
}
