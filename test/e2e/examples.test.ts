// Every program in examples/ runs as a user would run it: a child process importing the
// package BY NAME (`majra/queue`, ...), which Node resolves through the exports map into
// the built dist/ (so this runs after `npm run build`). tsx only strips the types:
// TSX_TSCONFIG_PATH points it at tsconfig.build.json, whose empty `paths` keeps it from
// redirecting `majra/*` to the sources. Each example must exit 0 on its own and print
// its closing line; the services ones get REDIS_URL / DATABASE_URL.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { databaseUrl, redisUrl, uniqueName } from '../support/services.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const schema = uniqueName('example');

afterAll(async () => {
  const client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
});

/** Each example and a line its output must contain. */
const examples: Record<string, string> = {
  'pubsub.ts': 'tenant acme got orders/7: {"total":42}',
  'queue.ts': 'counts {"queued":0,"running":0,"completed":2,"failed":0,"cancelled":1}',
  'workflow.ts': 'run completed; charge took 3 attempts',
  'workflow-sqlite.ts': 'step calls: extract, render attempt 1, render attempt 2',
  'relay.ts': 'a got reply from b: {"ok":true,"askedBy":"a"}',
  'transport.ts': 'dial 3: ERR_TRANSPORT_CIRCUIT_OPEN',
  'fleet.ts': 'gpu-1 ran 6 distinct fleet jobs',
  'heartbeat.ts': 'online: gpu-1',
  'ratelimit.ts': 'ip ok, ok, ok, 429',
  'barrier.ts':
    'complete {"name":"epoch-7","participants":["w1","w2"],"forced":true,"released":true}',
  'ipc.ts': 'after rekey: {"doubled":100}',
  'redis.ts': 'received orders/us/created {"id":3}',
  'postgres.ts':
    'workflow completed: {"compute":{"total":42},"publish":{"published":{"total":42}}}; compute ran 1x',
  'ws.ts': 'client got orders/7: {"total":42}',
  'prometheus.ts': 'majra_queue_depth{queue="thumbnails"} 2',
};

function run(file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', `examples/${file}`],
      {
        cwd: root,
        timeout: 60_000,
        env: {
          ...process.env,
          TSX_TSCONFIG_PATH: 'tsconfig.build.json',
          REDIS_URL: redisUrl(),
          DATABASE_URL: databaseUrl(),
          // The PostgreSQL example migrates its tables into this schema; dropped after.
          PG_SCHEMA: schema,
        },
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('examples/', () => {
  it('every example file is listed here (and every listed one exists)', () => {
    const files = readdirSync(`${root}/examples`).filter((name) => name.endsWith('.ts'));
    expect(files.sort()).toEqual(Object.keys(examples).sort());
  });

  it.each(Object.entries(examples))('%s exits 0 and prints what it did', async (file, line) => {
    const { code, stdout, stderr } = await run(file);
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toContain(line);
    expect(stdout).toContain(`${file.replace(/\.ts$/, '')} example done`);
  });
});
