/**
 * `majra dashboard`: serves the dashboard for an existing deployment.
 *
 * @module
 */
import { parseFlags } from './args.js';
import { CliError, EXIT } from './errors.js';

/** Help text of `majra dashboard`. */
export const DASHBOARD_HELP = `Usage: majra dashboard [options]\n`;

/** Parsed flags. */
export interface DashboardOptions {
  readonly port: number;
}

/** Parses flags. */
export function parseDashboardFlags(argv: readonly string[]): DashboardOptions | 'help' {
  const v = parseFlags('dashboard', argv, { help: { type: 'boolean', short: 'h' } });
  if (v.help === true) return 'help';
  return { port: 0 };
}

/** Serves until the signal aborts. */
export function runDashboard(_options: DashboardOptions, _signal: AbortSignal): Promise<number> {
  return Promise.reject(new CliError('not yet', EXIT.failure));
}
