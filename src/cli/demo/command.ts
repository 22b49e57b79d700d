/**
 * `majra demo`: flags, help, and the choice between the single-process demo and the
 * distributed one (`--redis` / `--postgres`).
 *
 * @module
 */
import { intFlag, parseFlags, urlFlag } from '../args.js';
import { usageError } from '../errors.js';
import type { DemoIo, DemoOptions } from './driver.js';

/** Help text of `majra demo`. */
export const DEMO_HELP = `Usage: majra demo [options]

Runs a realistic pipeline built from majra's primitives: workflow runs (a DAG with a
fan-out of GPU shards and a fan-in) on a durable store, step attempts admitted through
a ManagedQueue with GPU resources, shards executed on simulated worker nodes with
heartbeats and work stealing, a rate-limited external call, progress on pub/sub. Shows
live progress in the terminal and serves a dashboard on 127.0.0.1.

Stop it with Ctrl-C; run it again with the same --data-dir and it resumes the
interrupted runs without repeating completed steps.

Options:
  --runs N           workflow runs per session (1-50, default 3)
  --steps N          parallel GPU shard steps per run (1-32, default 4)
  --step-ms N        base step duration in ms (1-60000, default 400)
  --short            fast mode: tiny step durations (for tests and CI)
  --data-dir DIR     where the SQLite file and session live (default ./.majra)
  --port N           dashboard port on 127.0.0.1 (0 = any free port, default 7373)
  --no-dashboard     do not serve the dashboard
  --linger           keep serving the dashboard after the runs complete, until Ctrl-C
                     (default when stdout is a terminal; --no-linger to exit)
  --redis URL        distributed: worker processes share a Redis queue, pub/sub,
                     heartbeats and rate limiter (redis://host:port)
  --postgres URL     distributed: workflow runs in PostgreSQL (postgres://...);
                     without --redis, shard jobs go through the PostgreSQL job queue
  --workers N        worker processes in distributed mode (1-16, default 3)
  --verbose          print background errors
  -h, --help         show this help

Exit codes: 0 all runs completed, 1 a run failed, 2 bad usage, 69 a service is
unreachable, 75 another demo uses the data directory, 130 interrupted.
`;

const FLAGS = {
  runs: { type: 'string' },
  steps: { type: 'string' },
  'step-ms': { type: 'string' },
  short: { type: 'boolean' },
  'data-dir': { type: 'string' },
  port: { type: 'string' },
  dashboard: { type: 'boolean' },
  linger: { type: 'boolean' },
  redis: { type: 'string' },
  postgres: { type: 'string' },
  workers: { type: 'string' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Parsed `majra demo` flags, or `'help'`. */
export function parseDemoFlags(
  argv: readonly string[],
  stdoutIsTty: boolean,
): (DemoOptions & { readonly verbose: boolean }) | 'help' {
  const v = parseFlags('demo', argv, FLAGS);
  if (v.help === true) return 'help';
  const short = v.short === true;
  if (v['data-dir'] === '') throw usageError('majra demo: --data-dir must not be empty');
  return {
    runs: intFlag('demo', 'runs', v.runs, 3, 1, 50),
    shards: intFlag('demo', 'steps', v.steps, 4, 1, 32),
    stepMs: intFlag('demo', 'step-ms', v['step-ms'], short ? 10 : 400, 1, 60_000),
    short,
    dataDir: v['data-dir'] ?? '.majra',
    port: intFlag('demo', 'port', v.port, 7373, 0, 65_535),
    dashboard: v.dashboard !== false,
    linger: v.linger ?? stdoutIsTty,
    workers: intFlag('demo', 'workers', v.workers, 3, 1, 16),
    redis: urlFlag('demo', 'redis', v.redis, ['redis:', 'rediss:']),
    postgres: urlFlag('demo', 'postgres', v.postgres, ['postgres:', 'postgresql:']),
    verbose: v.verbose === true,
  };
}

/** Runs the demo the flags ask for. */
export async function runDemo(options: DemoOptions, io: DemoIo): Promise<number> {
  if (options.redis !== undefined || options.postgres !== undefined) {
    const { runDistributedDemo } = await import('./distributed.js');
    return runDistributedDemo(options, io);
  }
  const { runLocalDemo } = await import('./local-demo.js');
  return runLocalDemo(options, io);
}
