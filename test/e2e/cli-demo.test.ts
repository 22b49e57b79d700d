// `majra demo` end to end, through the built command in child processes: interrupted
// by SIGKILL and by SIGINT mid-run, then started again on the same data directory it
// resumes the same runs to completion without re-running a step that had completed.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteWorkflowStore } from 'majra/sqlite';
import { runCli, startCli } from '../support/cli.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'majra-demo-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface StoredState {
  runs: Map<string, string>;
  completed: Set<string>;
}

async function stored(dataDir: string): Promise<StoredState> {
  const store = SqliteWorkflowStore.open(join(dataDir, 'demo.db'));
  try {
    const runs = new Map<string, string>();
    const completed = new Set<string>();
    for (const run of await store.listRuns({ limit: 100 })) {
      runs.set(run.id, run.status);
      for (const step of await store.getSteps(run.id)) {
        if (step.status === 'completed') completed.add(`${run.id} ${step.stepId}`);
      }
    }
    return { runs, completed };
  } finally {
    await store.close();
  }
}

/** Steps whose execution process `pid` started, as "runId stepId". */
function startedBy(dataDir: string, pid: number): string[] {
  return readFileSync(join(dataDir, 'executions.log'), 'utf8')
    .split('\n')
    .map((line) => line.split(' '))
    .filter((f) => f[0] === String(pid) && f[4] === 'start')
    .map((f) => `${f[1]} ${f[2]}`);
}

const demoArgs = (dataDir: string): string[] => [
  'demo',
  '--short',
  '--runs',
  '2',
  '--steps',
  '4',
  '--no-dashboard',
  '--no-linger',
  '--data-dir',
  dataDir,
];

describe('majra demo', () => {
  it('runs to completion in short mode with the dashboard on an ephemeral port', async () => {
    const dataDir = tempDir();
    const result = await runCli([
      'demo',
      '--short',
      '--runs',
      '1',
      '--port',
      '0',
      '--data-dir',
      dataDir,
      '--no-linger',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/dashboard: http:\/\/127\.0\.0\.1:\d+\//);
    expect(result.stdout).toMatch(/^run run-\S+ completed$/m);
    expect(result.stdout).toContain('done: 1 runs completed');
    expect(existsSync(join(dataDir, 'session.json'))).toBe(false);

    // `majra dashboard --sqlite` serves the finished run from the file, read-only.
    const dashboard = startCli(['dashboard', '--sqlite', join(dataDir, 'demo.db'), '--port', '0']);
    const [, url] = await dashboard.waitFor(/dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/);
    const snapshot = (await (await fetch(`${url}api/snapshot`)).json()) as {
      runs: { status: string; steps: unknown[] }[];
    };
    expect(snapshot.runs).toHaveLength(1);
    expect(snapshot.runs[0]).toMatchObject({ status: 'completed' });
    expect(snapshot.runs[0]!.steps).toHaveLength(8);
    expect((await fetch(`${url}metrics`)).status).toBe(200);
    dashboard.child.kill('SIGINT');
    expect(await dashboard.exited).toBe(0);
  });

  it('reports a missing SQLite file with one line and exit 69', async () => {
    const result = await runCli(['dashboard', '--sqlite', join(tempDir(), 'missing.db')]);
    expect(result.code).toBe(69);
    expect(result.stderr).toMatch(/^majra: cannot use SQLite at .*missing\.db: /);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('resumes the same runs after SIGKILL and SIGINT without re-running completed steps', async () => {
    const dataDir = tempDir();

    // 1. Killed outright once some steps completed.
    const first = startCli([...demoArgs(dataDir), '--step-ms', '60']);
    await first.waitFor(/^step \S+ shard-\d completed/m);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe(137);
    const afterKill = await stored(dataDir);
    const runIds = [...afterKill.runs.keys()].sort();
    expect(runIds).toHaveLength(2);
    expect([...afterKill.runs.values()].some((s) => s !== 'completed')).toBe(true);
    expect(afterKill.completed.size).toBeGreaterThan(0);

    // 2. Resumed, then interrupted with Ctrl-C: exits 130 after releasing its leases.
    // Slower steps here, so that the signal lands mid-run rather than after the end.
    const second = startCli([...demoArgs(dataDir), '--step-ms', '150']);
    await second.waitFor(/^resuming run-/m);
    await second.waitFor(/^step \S+ \S+ running/m);
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(130);
    expect(second.stdout).toContain('interrupted');
    const afterInt = await stored(dataDir);
    expect([...afterInt.runs.keys()].sort()).toEqual(runIds);
    expect([...afterInt.runs.values()].some((s) => s !== 'completed')).toBe(true);
    for (const step of startedBy(dataDir, second.child.pid!)) {
      expect(afterKill.completed.has(step), `${step} re-ran`).toBe(false);
    }

    // 3. Resumed to completion: same run ids, nothing completed before runs again.
    const third = await runCli(demoArgs(dataDir));
    expect(third.stderr).toBe('');
    expect(third.code).toBe(0);
    expect(third.stdout).toMatch(/^resuming run-/m);
    const final = await stored(dataDir);
    expect([...final.runs.keys()].sort()).toEqual(runIds);
    expect([...final.runs.values()]).toEqual(['completed', 'completed']);
    const thirdPid = Number(
      readFileSync(join(dataDir, 'executions.log'), 'utf8')
        .trim()
        .split('\n')
        .at(-1)!
        .split(' ')[0],
    );
    for (const step of startedBy(dataDir, thirdPid)) {
      expect(afterInt.completed.has(step), `${step} re-ran`).toBe(false);
    }
    // Every step of both runs completed exactly once in the store.
    expect(final.completed.size).toBe(2 * 8);
  });
});

describe('majra command line', () => {
  it.each([
    [['demo', '--runs', 'abc'], /--runs must be an integer/],
    [['demo', '--bogus'], /Unknown option '--bogus'/],
    [['demo', 'extra'], /Unexpected argument 'extra'/],
    [['demo', '--redis', 'http://x'], /--redis must start with redis:\/\//],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['dashboard'], /give at least one of --redis, --postgres or --sqlite/],
    [['dashboard', '--sqlite', 'a.db', '--port', '70000'], /--port must be an integer/],
  ])('majra %j exits 2 with a one-line message', async (args, message) => {
    const result = await runCli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('prints help for each command and exits 0', async () => {
    for (const args of [
      ['--help'],
      ['demo', '--help'],
      ['dashboard', '--help'],
      ['help', 'demo'],
    ]) {
      const result = await runCli(args);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^Usage: majra/);
    }
  });
});
