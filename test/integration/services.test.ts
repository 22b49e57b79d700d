// Proves CI is wired to the real services: one value round-trips through Redis and one
// row through a PostgreSQL table in a schema of its own.
import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import pg from 'pg';
import { databaseUrl, redisUrl, uniqueName } from '../support/services.js';

describe('real services', () => {
  const redis = new Redis(redisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1 });
  const pool = new pg.Pool({ connectionString: databaseUrl(), max: 2 });
  const schema = uniqueName('svc');

  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
    redis.disconnect();
  });

  it('round-trips a value through Redis', async () => {
    await redis.connect();
    const key = `${uniqueName('svc')}:value`;
    await redis.set(key, 'majra', 'EX', 60);
    expect(await redis.get(key)).toBe('majra');
    await redis.del(key);
  });

  it('round-trips a row through a PostgreSQL table', async () => {
    await pool.query(`CREATE SCHEMA ${schema}`);
    await pool.query(`CREATE TABLE ${schema}.t (id serial PRIMARY KEY, body jsonb NOT NULL)`);
    await pool.query(`INSERT INTO ${schema}.t (body) VALUES ($1)`, [{ hello: 'majra' }]);
    const { rows } = await pool.query<{ body: { hello: string } }>(`SELECT body FROM ${schema}.t`);
    expect(rows).toEqual([{ body: { hello: 'majra' } }]);
  });
});
