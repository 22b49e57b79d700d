import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { isMajraError } from '../../src/core/errors.js';
import { connectPostgresJobQueue, migrate } from '../../src/backends/postgres/index.js';
import { bundledMigrations } from '../../src/backends/postgres/migrate.js';
import { databaseUrl, uniqueName } from '../support/services.js';

const schema = uniqueName('majra_migrate');
const admin = new pg.Pool({ connectionString: databaseUrl(), max: 2 });

afterAll(async () => {
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}_race" CASCADE`);
  await admin.end();
});

describe('migrations', () => {
  it('applies once, records versions, and is a no-op the second time', async () => {
    const first = await migrate(admin, { schema });
    expect(first.applied.map((a) => a.version)).toEqual(bundledMigrations().map((f) => f.version));
    const second = await migrate(admin, { schema });
    expect(second.applied).toEqual([]);
    expect(second.version).toBe(bundledMigrations().length);
    const { rows } = await admin.query<{ version: number }>(
      `SELECT version FROM "${schema}".majra_migrations`,
    );
    expect(rows.map((r) => r.version)).toEqual(bundledMigrations().map((f) => f.version));
  });

  it('serialises concurrent migrations from separate sessions under the advisory lock', async () => {
    const race = `${schema}_race`;
    const pools = Array.from(
      { length: 4 },
      () => new pg.Pool({ connectionString: databaseUrl(), max: 1 }),
    );
    try {
      const reports = await Promise.all(pools.map((pool) => migrate(pool, { schema: race })));
      const applied = reports.flatMap((r) => r.applied);
      expect(applied).toHaveLength(bundledMigrations().length);
      expect(reports.every((r) => r.version === bundledMigrations().length)).toBe(true);
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });

  it('refuses to run when an applied migration file changed (append-only)', async () => {
    await admin.query(
      `UPDATE "${schema}".majra_migrations SET checksum = 'tampered' WHERE version = 1`,
    );
    const error: unknown = await migrate(admin, { schema }).catch((e: unknown) => e);
    expect(isMajraError(error, 'ERR_POSTGRES_MIGRATION')).toBe(true);
    // Nothing was applied or rewritten by the refused run.
    const { rows } = await admin.query<{ checksum: string }>(
      `SELECT checksum FROM "${schema}".majra_migrations WHERE version = 1`,
    );
    expect(rows[0]?.checksum).toBe('tampered');
    await admin.query(`UPDATE "${schema}".majra_migrations SET checksum = $1 WHERE version = 1`, [
      bundledMigrations()[0]?.checksum,
    ]);
    expect((await migrate(admin, { schema })).applied).toEqual([]);
  });

  it('rejects injection strings as schema names before touching the database', async () => {
    for (const name of ['x"; DROP SCHEMA public CASCADE; --', "a'b", 'pg_temp', 'a-b']) {
      const error: unknown = await migrate(admin, { schema: name }).catch((e: unknown) => e);
      expect(isMajraError(error, 'ERR_POSTGRES_INVALID_SCHEMA')).toBe(true);
      const queueError: unknown = await connectPostgresJobQueue({
        connectionString: databaseUrl(),
        schema: name,
      }).catch((e: unknown) => e);
      expect(isMajraError(queueError, 'ERR_POSTGRES_INVALID_SCHEMA')).toBe(true);
    }
    const { rows } = await admin.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'public'`);
    expect(rows).toHaveLength(1);
  });

  it('rejects with ERR_POSTGRES_UNAVAILABLE when the database is unreachable at start', async () => {
    const error: unknown = await connectPostgresJobQueue({
      connectionString: 'postgres://postgres@127.0.0.1:1/test',
      connectTimeoutMs: 2000,
    }).catch((e: unknown) => e);
    expect(isMajraError(error, 'ERR_POSTGRES_UNAVAILABLE')).toBe(true);
    const missingDb: unknown = await connectPostgresJobQueue({
      connectionString: databaseUrl().replace(/\/[^/]*$/, '/majra_no_such_db'),
    }).catch((e: unknown) => e);
    expect(isMajraError(missingDb, 'ERR_POSTGRES_UNAVAILABLE')).toBe(true);
  });

  it('routes idle-client errors to onError instead of crashing the process', async () => {
    const appName = uniqueName('majra_idle');
    const errors: Error[] = [];
    const pool = new pg.Pool({
      connectionString: databaseUrl(),
      application_name: appName,
      max: 3,
    });
    const queue = await connectPostgresJobQueue({ pool, schema, onError: (e) => errors.push(e) });
    try {
      // Park two idle clients in the pool, then kill every connection of this app.
      const clients = await Promise.all([pool.connect(), pool.connect()]);
      for (const client of clients) client.release();
      const killed = await admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
        [appName],
      );
      expect(killed.rowCount).toBeGreaterThanOrEqual(3); // 2 idle + the LISTEN connection
      await expect.poll(() => errors.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
      expect(errors.every((e) => isMajraError(e, 'ERR_POSTGRES_UNAVAILABLE'))).toBe(true);
      // Still usable afterwards, and the listener reconnected (a notification-driven worker runs).
      const seen: unknown[] = [];
      const worker = queue.work('after-kill', (job) => void seen.push(job.payload));
      await queue.enqueue('after-kill', { ok: true });
      await expect.poll(() => seen.length, { timeout: 10_000 }).toBe(1);
      await worker.close();
    } finally {
      await queue.close();
      await pool.end();
    }
  });
});
