// The distributed demo through the built command: the coordinator forks worker
// processes that take GPU shards from a Redis queue, report on Redis pub/sub and send
// heartbeats to Redis, while the workflow runs live in PostgreSQL. Unreachable services
// end the command with one line and EX_UNAVAILABLE (69).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connectPostgresWorkflowStore } from 'majra/postgres';
import { runCli, startCli } from '../support/cli.js';

const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const databaseUrl = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('majra demo --redis --postgres', () => {
  it('completes the runs with shards executed by worker processes', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'majra-dist-'));
    dirs.push(dataDir);
    const result = await runCli([
      'demo',
      '--short',
      '--runs',
      '2',
      '--steps',
      '4',
      '--workers',
      '2',
      '--redis',
      redisUrl,
      '--postgres',
      databaseUrl,
      '--no-dashboard',
      '--data-dir',
      dataDir,
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('done: 2 runs completed');
    const runIds = [...result.stdout.matchAll(/^run (\S+) completed$/gm)].map((m) => m[1]!);
    expect(runIds).toHaveLength(2);

    // The shards ran in the worker processes, not in the coordinator.
    const shardNodes = readFileSync(join(dataDir, 'executions.log'), 'utf8')
      .split('\n')
      .map((line) => line.split(' '))
      .filter((f) => f[2]?.startsWith('shard-') && f[4] === 'done')
      .map((f) => f[5]);
    expect(shardNodes).toHaveLength(8);
    for (const node of shardNodes) expect(node).toMatch(/^worker-[12]$/);

    // The runs are in PostgreSQL, completed.
    const store = await connectPostgresWorkflowStore({
      connectionString: databaseUrl,
      schema: 'majra_demo',
    });
    try {
      for (const runId of runIds) {
        expect((await store.getRun(runId))?.status).toBe('completed');
        const steps = await store.getSteps(runId);
        expect(steps.filter((s) => s.status === 'completed')).toHaveLength(8);
      }
    } finally {
      await store.close();
    }

    // `majra dashboard` shows that deployment read-only: runs from PostgreSQL, the worker
    // nodes from the Redis heartbeat tracker, the Redis work queue.
    const dashboard = startCli([
      'dashboard',
      '--redis',
      redisUrl,
      '--postgres',
      databaseUrl,
      '--runs',
      '200',
      '--port',
      '0',
    ]);
    const [, url] = await dashboard.waitFor(/dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/);
    const snapshot = (await (await fetch(`${url}api/snapshot`)).json()) as {
      readOnly: boolean;
      runs: { runId: string; status: string; steps: { dependsOn: string[] }[] }[];
      nodes: { nodeId: string }[];
      queues: { name: string }[];
    };
    dashboard.child.kill('SIGINT');
    expect(await dashboard.exited).toBe(0);
    expect(snapshot.readOnly).toBe(true);
    for (const runId of runIds) {
      const run = snapshot.runs.find((r) => r.runId === runId);
      expect(run?.status).toBe('completed');
      expect(run?.steps.some((s) => s.dependsOn.length > 0)).toBe(true);
    }
    expect(snapshot.nodes.map((n) => n.nodeId)).toEqual(
      expect.arrayContaining(['worker-1', 'worker-2']),
    );
    expect(snapshot.queues.map((q) => q.name)).toEqual(['redis:work']);
  });

  it('with --postgres alone, worker processes take shards from the PostgreSQL job queue', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'majra-dist-'));
    dirs.push(dataDir);
    const result = await runCli([
      'demo',
      '--short',
      '--runs',
      '2',
      '--workers',
      '2',
      '--postgres',
      databaseUrl,
      '--port',
      '0',
      '--data-dir',
      dataDir,
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('done: 2 runs completed');
    const shardNodes = readFileSync(join(dataDir, 'executions.log'), 'utf8')
      .split('\n')
      .map((line) => line.split(' '))
      .filter((f) => f[2]?.startsWith('shard-') && f[4] === 'done')
      .map((f) => f[5]);
    expect(shardNodes).toHaveLength(8);
    for (const node of shardNodes) expect(node).toMatch(/^worker-[12]$/);
  });

  it.each([
    [['--postgres', 'postgres://postgres@127.0.0.1:1/none'], /^majra: cannot use PostgreSQL at /],
    [['--redis', 'redis://127.0.0.1:1'], /^majra: cannot use Redis at redis:\/\/127\.0\.0\.1:1/],
    [
      ['--redis', redisUrl, '--postgres', 'postgres://postgres@127.0.0.1:1/none'],
      /^majra: cannot use PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:1\/none/,
    ],
  ])('an unreachable service (%j) exits 69 with one line', async (flags, message) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'majra-dist-'));
    dirs.push(dataDir);
    const result = await runCli([
      'demo',
      '--short',
      '--no-dashboard',
      '--data-dir',
      dataDir,
      ...flags,
    ]);
    expect(result.code).toBe(69);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});
