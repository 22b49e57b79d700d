// docs/getting-started.md, followed literally: every `Create \`file\`:` block of the page is
// written to a scratch directory inside the repository (so `import 'majra/redis'` resolves
// through the package's own exports map to the built dist/, and the drivers from
// node_modules), then the page's steps are run as child processes: two queue workers and a
// producer on Redis, and the workflow interrupted with SIGINT mid-step and resumed by a
// second run on PostgreSQL. Redis gets its own logical database and PostgreSQL its own
// database, both removed afterwards.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseUrl, redisUrl, uniqueName } from '../support/services.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const page = readFileSync(join(root, 'docs/getting-started.md'), 'utf8');
const dir = join(root, '.tmp', uniqueName('getting_started'));
const database = uniqueName('majra_gs');

const redis = new URL(redisUrl());
redis.pathname = '/13'; // a logical database of its own: the page's queue name is fixed
const postgres = new URL(databaseUrl());
postgres.pathname = `/${database}`;
const env = { ...process.env, REDIS_URL: redis.href, DATABASE_URL: postgres.href };

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function flushRedis(): Promise<void> {
  const client = new Redis(redis.href);
  await client.flushdb();
  client.disconnect();
}

interface Proc {
  readonly child: ChildProcess;
  output: string;
  readonly exited: Promise<number | null>;
}

function start(args: string[]): Proc {
  const child = spawn(process.execPath, args, { cwd: dir, env });
  const proc: Proc = {
    child,
    output: '',
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  };
  child.stdout.on('data', (chunk: Buffer) => (proc.output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (proc.output += chunk.toString()));
  return proc;
}

async function run(args: string[]): Promise<string> {
  const proc = start(args);
  const code = await proc.exited;
  expect(code, proc.output).toBe(0);
  return proc.output;
}

async function waitFor(proc: Proc, text: string): Promise<void> {
  for (let i = 0; i < 400 && !proc.output.includes(text); i++) await sleep(50);
  expect(proc.output).toContain(text);
}

beforeAll(async () => {
  mkdirSync(dir, { recursive: true });
  const files = [...page.matchAll(/Create `([\w.-]+)`:\n\n```js\n([\s\S]*?)```/g)];
  expect(files.map((match) => match[1])).toEqual([
    'email-queue.mjs',
    'worker.mjs',
    'producer.mjs',
    'signup.mjs',
  ]);
  for (const [, name, code] of files) writeFileSync(join(dir, name!), code!);
  await admin(`CREATE DATABASE ${database}`);
  await flushRedis();
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await flushRedis();
});

describe('docs/getting-started.md', () => {
  it('step 3: two workers share the Redis queue; the failing job is dead-lettered', async () => {
    const workers = [start(['worker.mjs']), start(['worker.mjs'])];
    for (const worker of workers) await waitFor(worker, 'waiting for jobs');
    await run(['producer.mjs']);

    // The page's inspection command, repeated until the queue has settled.
    const inspect = page.match(/node -e "\n([\s\S]*?)"\n/)![1]!;
    let stats = '';
    for (let i = 0; i < 100 && !stats.includes('dead: 1'); i++) {
      stats = await run(['-e', inspect]);
      if (!stats.includes('dead: 1')) await sleep(100);
    }
    expect(stats).toContain('stats { ready: 0, active: 0, delayed: 0, dead: 1 }');
    expect(stats).toContain("error: 'mailbox full'");

    for (const worker of workers) worker.child.kill('SIGINT');
    for (const worker of workers) expect(await worker.exited).toBe(0);
    const sent = workers.flatMap((worker) => [...worker.output.matchAll(/sent to (\S+)/g)]);
    const addresses = sent.map((match) => match[1]).sort();
    const expected = [...Array.from({ length: 10 }, (_, i) => `user${i + 1}@example.com`)];
    expect(addresses).toEqual([...expected, 'ceo@example.com'].sort());
    expect(workers.every((worker) => worker.output.includes('sent to'))).toBe(true);
    const outcomes = workers.flatMap((w) => [...w.output.matchAll(/bounce\S+ failed .*: (\w+)/g)]);
    expect(outcomes.map((match) => match[1])).toEqual(['delayed', 'delayed', 'dead']);
  });

  it('step 4: a workflow interrupted by Ctrl-C mid-step is finished by the next run', async () => {
    const first = start(['signup.mjs']);
    await waitFor(first, 'provision (attempt 1): 2/6');
    first.child.kill('SIGINT'); // Ctrl-C: no cleanup, like a crash
    expect(await first.exited).not.toBe(0);
    expect(first.output).toContain('create-account for ada@example.com (attempt 1)');
    expect(first.output).toContain('send-welcome to user 42');

    await sleep(6_000); // the page: `sleep 6 && node signup.mjs` (the lease is 5 s)
    const second = await run(['signup.mjs']);
    expect(second).toContain('resumed 1 interrupted run(s)');
    expect(second).toContain('provision (attempt 2): 6/6');
    expect(second).not.toContain('create-account for');
    expect(second).not.toContain('send-welcome to');
    expect(second).toMatch(/completed \{[\s\S]*finish: \{ vm: 'vm-7' \}/);
  }, 90_000);
});
