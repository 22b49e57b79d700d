// The crash-and-resume scenarios shared by the SQLite and PostgreSQL workflow stores:
// a child runs a 10-step workflow and is killed with SIGKILL in the middle of a step;
// other processes resume the run. Every step that had completed ran exactly once, the
// interrupted step ran again with the next attempt number, the run completes, and of
// two processes resuming at once exactly one wins. Each backend's test file supplies
// how to name its storage and open a store on it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { WorkflowStore } from '../../src/workflow/types.js';

const child = fileURLToPath(new URL('../integration/fixtures/workflow-child.ts', import.meta.url));

export interface CrashBackend {
  /** `sqlite` or `postgres`: passed to the child, which opens the matching store. */
  readonly kind: 'sqlite' | 'postgres';
  readonly title: string;
  /** Names fresh storage for one scenario (a file path, a schema name). */
  target(name: string, dir: string): string;
  open(target: string): Promise<WorkflowStore>;
  cleanup?(): Promise<void>;
}

interface Running {
  readonly proc: ChildProcess;
  /** Resolves with the first stdout line starting with `prefix`. */
  line(prefix: string): Promise<string>;
  exited: Promise<number | null>;
}

function run(kind: string, args: string[]): Running {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, kind, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: { prefix: string; resolve: (line: string) => void }[] = [];
  let buffer = '';
  let stderr = '';
  proc.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  proc.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      lines.push(line);
      for (const w of waiters.filter((w) => line.startsWith(w.prefix))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => resolve(code)),
  );
  return {
    proc,
    exited,
    line: (prefix) =>
      new Promise((resolve, reject) => {
        const found = lines.find((l) => l.startsWith(prefix));
        if (found !== undefined) return resolve(found);
        waiters.push({ prefix, resolve });
        const timer = setTimeout(() => {
          reject(
            new Error(
              `no "${prefix}" line in 30 s; stdout: ${lines.join(' | ')}; stderr: ${stderr}`,
            ),
          );
        }, 30_000);
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`child exited (${String(code)}) before "${prefix}": ${stderr}`));
        });
      }),
  };
}

/** Counts `start`/`done` lines per step and attempt in the side file. */
function executions(log: string): { starts: Map<string, number[]>; dones: Map<string, number[]> } {
  const starts = new Map<string, number[]>();
  const dones = new Map<string, number[]>();
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    const [kind, step, attempt] = line.split(' ');
    if (step === undefined || attempt === undefined) continue;
    const map = kind === 'start' ? starts : dones;
    map.set(step, [...(map.get(step) ?? []), Number(attempt)]);
  }
  return { starts, dones };
}

/** Waits until the dead engine's lease on `runId` has expired (wall clock). */
async function expiry(store: WorkflowStore, runId: string): Promise<void> {
  const run = await store.getRun(runId);
  const until = run?.leaseExpiresAt ?? 0;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, until - Date.now() + 50)));
}

/** Registers the crash-and-resume tests for one backend. */
export function workflowCrashSuite(backend: CrashBackend): void {
  const dir = mkdtempSync(join(tmpdir(), `majra-wf-crash-${backend.kind}-`));
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await backend.cleanup?.();
  });

  async function crashMidStep(name: string, crashStep: string, leaseMs: number) {
    const target = backend.target(name, dir);
    const log = join(dir, `${name}.log`);
    const first = run(backend.kind, ['start', target, log, String(leaseMs), crashStep]);
    const runId = (await first.line('RUN ')).slice(4);
    expect(await first.line('MID ')).toBe(`MID ${crashStep} 1`);
    first.proc.kill('SIGKILL');
    expect(await first.exited).toBeNull();
    return { target, log, runId };
  }

  describe(`${backend.title} workflow crash and resume (separate processes)`, () => {
    it('resumes after SIGKILL mid-step: completed steps once, the interrupted one again', async () => {
      const leaseMs = 1500;
      const { target, log, runId } = await crashMidStep('crash', 's4', leaseMs);

      // The dead engine's lease is still live right after the kill.
      const store = await backend.open(target);
      const stored = await store.getRun(runId);
      expect(stored?.status).toBe('running');
      expect((await store.getSteps(runId)).map((s) => [s.stepId, s.status])).toEqual([
        ['s0', 'completed'],
        ['s1', 'completed'],
        ['s2', 'completed'],
        ['s3', 'completed'],
        ['s4', 'running'],
      ]);

      const second = run(backend.kind, ['resume', target, log, String(leaseMs), runId]);
      await second.line('READY');
      await expiry(store, runId);
      second.proc.stdin?.write('go\n');
      await second.line('WON');
      const result = JSON.parse((await second.line('RESULT ')).slice(7)) as {
        status: string;
        output: Record<string, string>;
      };
      expect(await second.exited).toBe(0);
      expect(result.status).toBe('completed');
      expect(result.output['s3']).toBe('s3@1');
      expect(result.output['s4']).toBe('s4@2');
      expect(Object.keys(result.output)).toHaveLength(10);

      const { starts, dones } = executions(log);
      for (const step of ['s0', 's1', 's2', 's3']) {
        expect(starts.get(step), step).toEqual([1]);
        expect(dones.get(step), step).toEqual([1]);
      }
      expect(starts.get('s4')).toEqual([1, 2]);
      expect(dones.get('s4')).toEqual([2]);
      for (const step of ['s5', 's6', 's7', 's8', 's9'])
        expect(starts.get(step), step).toEqual([1]);

      const records = await store.getSteps(runId);
      expect(records.every((r) => r.status === 'completed')).toBe(true);
      expect(records.find((r) => r.stepId === 's4')?.attempt).toBe(2);
      expect(await store.getRun(runId)).toMatchObject({ status: 'completed', owner: null });
      await store.close();
    });

    it('lets exactly one of two processes resume the same run at once', async () => {
      const leaseMs = 1000;
      const { target, log, runId } = await crashMidStep('race', 's6', leaseMs);
      const a = run(backend.kind, ['resume', target, log, String(leaseMs), runId]);
      const b = run(backend.kind, ['resume', target, log, String(leaseMs), runId]);
      await Promise.all([a.line('READY'), b.line('READY')]);
      const store = await backend.open(target);
      await expiry(store, runId);
      await store.close();
      // Both are released in the same tick; each calls resume() as soon as it reads the line.
      a.proc.stdin?.write('go\n');
      b.proc.stdin?.write('go\n');
      const outcomes = await Promise.all(
        [a, b].map((p) => Promise.race([p.line('WON'), p.line('LOST '), p.line('NOOP')])),
      );
      expect(outcomes.filter((o) => o === 'WON')).toHaveLength(1);
      // The loser either meets the winner's lease, or (when it reads the run after the
      // winner finished it) finds nothing left to resume.
      expect(
        outcomes.filter((o) => o === 'LOST ERR_WORKFLOW_LEASE_HELD' || o === 'NOOP'),
      ).toHaveLength(1);
      const winner = outcomes[0] === 'WON' ? a : b;
      const result = JSON.parse((await winner.line('RESULT ')).slice(7)) as { status: string };
      expect(result.status).toBe('completed');
      expect(await a.exited).toBe(0);
      expect(await b.exited).toBe(0);
      const { starts } = executions(log);
      for (const step of ['s0', 's1', 's2', 's3', 's4', 's5', 's7', 's8', 's9']) {
        expect(starts.get(step), step).toEqual([1]);
      }
      expect(starts.get('s6')).toEqual([1, 2]);
    });
  });
}
