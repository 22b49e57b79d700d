// Runs the BUILT `majra` command (dist/cli/main.js, so `npm run build` first) as a child
// process and lets a test wait for output, signal it and collect its exit code.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const cliPath = `${root}dist/cli/main.js`;

export interface CliRun {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  /** Resolves when stdout matches `pattern` (rejects if the process exits first). */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (or 128 + signal number for a signal). */
  readonly exited: Promise<number>;
}

const SIGNALS: Record<string, number> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

export function startCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): CliRun {
  const child = spawn(process.execPath, [cliPath, ...args], {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const waiters: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  let exitedFlag = false;
  const run: CliRun = {
    child,
    stdout: '',
    stderr: '',
    waitFor(pattern) {
      const found = run.stdout.match(pattern);
      if (found !== null) return Promise.resolve(found);
      if (exitedFlag) {
        return Promise.reject(
          new Error(`exited before ${pattern}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`),
        );
      }
      return new Promise((resolve, reject) => {
        waiters.push({ pattern, resolve });
        void run.exited.then(() =>
          reject(
            new Error(`exited before ${pattern}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`),
          ),
        );
      });
    },
    exited: new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        exitedFlag = true;
        resolve(code ?? 128 + (SIGNALS[signal ?? ''] ?? 0));
      });
    }),
  };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    run.stdout += chunk;
    for (const w of [...waiters]) {
      const found = run.stdout.match(w.pattern);
      if (found !== null) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(found);
      }
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    run.stderr += chunk;
  });
  return run;
}

/** Runs the command to completion. */
export async function runCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const run = startCli(args, env);
  const code = await run.exited;
  return { code, stdout: run.stdout, stderr: run.stderr };
}
