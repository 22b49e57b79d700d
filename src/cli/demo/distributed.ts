/**
 * The distributed demo (`--redis` / `--postgres`).
 *
 * @module
 */
import { CliError, EXIT } from '../errors.js';
import type { DemoIo, DemoOptions } from './driver.js';

/** Runs the demo across worker processes; resolves with the exit code. */
export function runDistributedDemo(_options: DemoOptions, _io: DemoIo): Promise<number> {
  return Promise.reject(
    new CliError('majra demo: distributed mode is not available yet', EXIT.failure),
  );
}
