#!/usr/bin/env node
/**
 * The `majra` command: `majra demo` and `majra dashboard`. Every failure ends with one
 * line on stderr and a sysexits-style code (see errors.ts); no stack traces unless
 * MAJRA_DEBUG=1.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { CliError, EXIT, describeError } from './errors.js';
import { ProgressView } from './progress.js';

const HELP = `Usage: majra <command> [options]

Commands:
  demo        run a live demo pipeline built from majra's primitives, with a dashboard
  dashboard   serve the dashboard for an existing deployment (Redis, PostgreSQL, SQLite)
  help        show this help, or \`majra help <command>\`

Options:
  -h, --help      show help (also after a command: majra demo --help)
  -v, --version   print the version

Run \`majra <command> --help\` for a command's options.
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** Installs SIGINT/SIGTERM handling: the first aborts the signal, a second exits at once. */
function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  const onSignal = (): void => {
    if (controller.signal.aborted) {
      process.stdout.write('\u001b[?25h');
      process.exit(EXIT.interrupted);
    }
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return controller.signal;
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help') {
    process.stdout.write(HELP);
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  if (command === '-v' || command === '--version') {
    process.stdout.write(`${version()}\n`);
    return EXIT.ok;
  }
  if (command === 'help') {
    return main(rest[0] === undefined ? ['--help'] : [rest[0], '--help']);
  }
  if (command === 'demo') {
    const { DEMO_HELP, parseDemoFlags, runDemo } = await import('./demo/command.js');
    const parsed = parseDemoFlags(rest, process.stdout.isTTY);
    if (parsed === 'help') {
      process.stdout.write(DEMO_HELP);
      return EXIT.ok;
    }
    const signal = interruptSignal();
    const view = new ProgressView(process.stdout);
    return runDemo(parsed, {
      view,
      signal,
      debug: (error) => {
        if (parsed.verbose) process.stderr.write(`majra demo: ${describeError(error)}\n`);
      },
    });
  }
  if (command === 'dashboard') {
    const { DASHBOARD_HELP, parseDashboardFlags, runDashboard } =
      await import('./dashboard-command.js');
    const parsed = parseDashboardFlags(rest);
    if (parsed === 'help') {
      process.stdout.write(DASHBOARD_HELP);
      return EXIT.ok;
    }
    return runDashboard(parsed, interruptSignal());
  }
  throw new CliError(
    `majra: unknown command '${command}' (expected demo, dashboard or help; see majra --help)`,
    EXIT.usage,
  );
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (process.env['MAJRA_DEBUG'] === '1') console.error(error);
    const message = describeError(error);
    process.stderr.write(`${message.startsWith('majra') ? '' : 'majra: '}${message}\n`);
    process.exitCode = error instanceof CliError ? error.exitCode : EXIT.failure;
  },
);
