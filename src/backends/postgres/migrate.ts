import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import { BackendError, isMajraError } from '../../core/errors.js';
import type { MetricsSink } from '../../core/metrics.js';
import { DEFAULT_SCHEMA, quoteIdentifier, validateSchemaName } from './identifier.js';
import { MIGRATIONS_APPLIED } from './metrics.js';
import { runQuery, withTransaction, wrapPgError } from './pool.js';
import { loadMigrations, substituteSchema, type MigrationFile } from './sql-file.js';

/** Options of {@link migrate}. */
export interface MigrateOptions {
  /** Schema holding majra's tables (created if missing). @defaultValue 'majra' */
  readonly schema?: string | undefined;
  /** Counts applied migrations in `majra_postgres_migrations_applied_total`. */
  readonly metrics?: MetricsSink | undefined;
}

/** What {@link migrate} did. */
export interface MigrationReport {
  /** The schema migrated. */
  readonly schema: string;
  /** Migrations applied by this call, in order (empty when already up to date). */
  readonly applied: readonly {
    /** The migration's number (its file's `NNNN_` prefix). */
    readonly version: number;
    /** The rest of its file name, e.g. `job_queue`. */
    readonly name: string;
  }[];
  /** Highest version now recorded in the schema. */
  readonly version: number;
}

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);
let cached: MigrationFile[] | undefined;

/** The bundled migrations, read from disk on first use. @internal */
export function bundledMigrations(): readonly MigrationFile[] {
  cached ??= loadMigrations(MIGRATIONS_DIR);
  return cached;
}

/** The advisory lock key for a schema: 64 bits of SHA-256, as a signed bigint string. */
function lockKey(schema: string): string {
  const digest = createHash('sha256').update(`majra.migrate:${schema}`).digest();
  return digest.readBigInt64BE(0).toString();
}

/**
 * Brings `schema` up to date with the bundled numbered migrations
 * (`migrations/NNNN_name.sql`). Everything runs in ONE transaction holding
 * `pg_advisory_xact_lock` for the schema, so processes starting at once serialise:
 * the first applies, the others then find nothing to do. Applied migrations are
 * recorded in `<schema>.majra_migrations` with a checksum; a changed file is refused
 * (`ERR_POSTGRES_MIGRATION`) because migrations are append-only. Versions recorded in
 * the database but unknown to this code (a newer release ran) are left alone.
 *
 * @example
 * ```ts
 * const report = await migrate(pool, { schema: 'jobs' });
 * console.log(report.applied); // [] when already current
 * ```
 */
export async function migrate(pool: Pool, options: MigrateOptions = {}): Promise<MigrationReport> {
  const schema = validateSchemaName(options.schema ?? DEFAULT_SCHEMA);
  const files = bundledMigrations();
  const q = quoteIdentifier(schema);
  let report: MigrationReport;
  try {
    report = await withTransaction(pool, 'migration', async (client) => {
      await runQuery(
        client,
        'SELECT pg_advisory_xact_lock($1::bigint)',
        [lockKey(schema)],
        'migration lock',
      );
      await runQuery(client, `CREATE SCHEMA IF NOT EXISTS ${q}`, [], 'create schema');
      await runQuery(
        client,
        `CREATE TABLE IF NOT EXISTS ${q}.majra_migrations (
           version INTEGER PRIMARY KEY,
           name TEXT NOT NULL,
           checksum TEXT NOT NULL,
           applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
        [],
        'create migrations table',
      );
      const rows = await runQuery<{ version: number; checksum: string }>(
        client,
        `SELECT version, checksum FROM ${q}.majra_migrations ORDER BY version`,
        [],
        'read migrations',
      );
      const recorded = new Map(rows.map((row) => [row.version, row.checksum]));
      const applied: { version: number; name: string }[] = [];
      for (const file of files) {
        const checksum = recorded.get(file.version);
        if (checksum !== undefined) {
          if (checksum !== file.checksum) {
            throw new BackendError(
              `migration ${file.version} (${file.name}) was changed after it was applied to schema ${schema}; migrations are append-only`,
              { code: 'ERR_POSTGRES_MIGRATION', details: { version: file.version } },
            );
          }
          continue;
        }
        // Migration files take no values; the simple protocol runs them as a multi-statement script.
        await runQuery(
          client,
          substituteSchema(file.sql, schema, file.name),
          [],
          `migration ${file.version}`,
        );
        await runQuery(
          client,
          `INSERT INTO ${q}.majra_migrations (version, name, checksum) VALUES ($1, $2, $3)`,
          [file.version, file.name, file.checksum],
          'record migration',
        );
        applied.push({ version: file.version, name: file.name });
      }
      const version = Math.max(
        0,
        ...rows.map((row) => row.version),
        ...applied.map((a) => a.version),
      );
      return { schema, applied, version };
    });
  } catch (error) {
    if (isMajraError(error)) throw error;
    throw wrapPgError(error, 'migration');
  }
  // Counted after COMMIT: a rolled-back run applied nothing.
  options.metrics?.increment(MIGRATIONS_APPLIED, report.applied.length);
  return report;
}
