/**
 * `majra dashboard`: serves the dashboard for an existing deployment, read-only. Runs
 * come from a workflow store (PostgreSQL or a SQLite file, opened without migrating,
 * SQLite read-only); queues, nodes, topic rates and limiter rejections from Redis. The
 * defaults name the objects of the distributed demo; flags point it at others.
 *
 * @module
 */
import { intFlag, parseFlags, urlFlag } from './args.js';
import { EXIT, usageError } from './errors.js';

/** Help text of `majra dashboard`. */
export const DASHBOARD_HELP = `Usage: majra dashboard [options]

Serves the dashboard on 127.0.0.1 for an existing deployment, read-only: nothing is
migrated, written or published. Give at least one source.

Sources:
  --redis URL        Redis: queues, heartbeat nodes, pub/sub topic rates
  --postgres URL     PostgreSQL workflow store (runs and their steps)
  --sqlite FILE      SQLite workflow store file (opened read-only)

Options:
  --schema NAME      PostgreSQL schema of the workflow store (default majra_demo)
  --prefix PREFIX    Redis key prefix (default majra-demo:)
  --queue NAME       Redis queue to show; repeatable (default work)
  --nodes NAME       Redis heartbeat tracker name (default nodes)
  --pubsub NAME      Redis pub/sub bus name, for topic rates (default events)
  --runs N           most recent workflow runs shown (1-200, default 20)
  --interval-ms N    refresh period (100-60000, default 1000)
  --port N           port on 127.0.0.1 (0 = any free port, default 7373)
  -h, --help         show this help

Exit codes: 0 stopped with Ctrl-C, 2 bad usage, 69 a source is unreachable.
`;

/** Parsed flags of `majra dashboard`. */
export interface DashboardOptions {
  readonly redis: string | undefined;
  readonly postgres: string | undefined;
  readonly sqlite: string | undefined;
  readonly schema: string;
  readonly prefix: string;
  readonly queues: readonly string[];
  readonly nodes: string;
  readonly pubsub: string;
  readonly runs: number;
  readonly intervalMs: number;
  readonly port: number;
}

const FLAGS = {
  redis: { type: 'string' },
  postgres: { type: 'string' },
  sqlite: { type: 'string' },
  schema: { type: 'string' },
  prefix: { type: 'string' },
  queue: { type: 'string', multiple: true },
  nodes: { type: 'string' },
  pubsub: { type: 'string' },
  runs: { type: 'string' },
  'interval-ms': { type: 'string' },
  port: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Parses `majra dashboard` flags. */
export function parseDashboardFlags(argv: readonly string[]): DashboardOptions | 'help' {
  const v = parseFlags('dashboard', argv, FLAGS);
  if (v.help === true) return 'help';
  const options: DashboardOptions = {
    redis: urlFlag('dashboard', 'redis', v.redis, ['redis:', 'rediss:']),
    postgres: urlFlag('dashboard', 'postgres', v.postgres, ['postgres:', 'postgresql:']),
    sqlite: v.sqlite,
    schema: v.schema ?? 'majra_demo',
    prefix: v.prefix ?? 'majra-demo:',
    queues: v.queue ?? ['work'],
    nodes: v.nodes ?? 'nodes',
    pubsub: v.pubsub ?? 'events',
    runs: intFlag('dashboard', 'runs', v.runs, 20, 1, 200),
    intervalMs: intFlag('dashboard', 'interval-ms', v['interval-ms'], 1000, 100, 60_000),
    port: intFlag('dashboard', 'port', v.port, 7373, 0, 65_535),
  };
  if (
    options.redis === undefined &&
    options.postgres === undefined &&
    options.sqlite === undefined
  ) {
    throw usageError('majra dashboard: give at least one of --redis, --postgres or --sqlite');
  }
  if (options.postgres !== undefined && options.sqlite !== undefined) {
    throw usageError('majra dashboard: --postgres and --sqlite are alternatives; give one');
  }
  if (options.sqlite === '') throw usageError('majra dashboard: --sqlite must name a file');
  return options;
}

/** Serves until `signal` aborts; resolves with the exit code. */
export async function runDashboard(
  options: DashboardOptions,
  signal: AbortSignal,
): Promise<number> {
  const { serveDeployment } = await import('./dashboard-sources.js');
  await serveDeployment(options, signal);
  return EXIT.ok;
}
