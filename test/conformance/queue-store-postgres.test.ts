import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { isMajraError } from '../../src/core/errors.js';
import {
  connectPostgresQueueStore,
  type PostgresQueueStore,
} from '../../src/backends/postgres/index.js';
import { databaseUrl, uniqueName } from '../support/services.js';
import { describeQueueStore } from './queue-store.suite.js';

const schema = uniqueName('majra_qstore');

afterAll(async () => {
  const admin = new pg.Pool({ connectionString: databaseUrl(), max: 1 });
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
});

describeQueueStore('PostgresQueueStore', async () => {
  // A fresh queue name per test (an injection string, to prove it is only ever a value).
  const queue = `${uniqueName('q')}'; DROP TABLE majra_queue_jobs; --`;
  const opened: PostgresQueueStore[] = [];
  const open = async (): Promise<PostgresQueueStore> => {
    const store = await connectPostgresQueueStore({
      connectionString: databaseUrl(),
      schema,
      queue,
      maxPoolSize: 2,
    });
    opened.push(store);
    return store;
  };
  return {
    store: await open(),
    reopen: open,
    cleanup: async () => {
      for (const store of opened) await store.close();
    },
  };
});

describe('PostgresQueueStore specifics', () => {
  it('scopes rows by queue name and reports driver failures as ERR_QUEUE_STORE_FAILED', async () => {
    const a = await connectPostgresQueueStore({
      connectionString: databaseUrl(),
      schema,
      queue: 'a',
    });
    const b = await connectPostgresQueueStore({
      connectionString: databaseUrl(),
      schema,
      queue: 'b',
    });
    try {
      await a.insert({
        id: 'x',
        seq: 1,
        priority: 2,
        state: 'queued',
        payload: '1',
        resources: undefined,
        attempts: 0,
        enqueuedAt: 1,
        startedAt: undefined,
        finishedAt: undefined,
      });
      expect(await b.load()).toEqual([]);
      expect(await a.load()).toHaveLength(1);
      // PostgreSQL text cannot hold NUL: the driver error surfaces typed, nothing written.
      let caught: unknown;
      try {
        await a.insert({ ...(await a.load())[0]!, id: 'nul', payload: 'a\u0000b' });
      } catch (error) {
        caught = error;
      }
      expect(isMajraError(caught, 'ERR_QUEUE_STORE_FAILED')).toBe(true);
      expect(await a.load()).toHaveLength(1);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
