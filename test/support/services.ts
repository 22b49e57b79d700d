// Service URLs and per-file isolation for integration tests. Every test file takes its
// own Redis key prefix and PostgreSQL schema, so reruns never see old data.
import { randomBytes } from 'node:crypto';

/** Redis URL from scripts/services.sh (global-setup has verified it answers). */
export function redisUrl(): string {
  const url = process.env['REDIS_URL'];
  if (url === undefined) throw new Error('REDIS_URL is not set: run scripts/services.sh');
  return url;
}

/** PostgreSQL URL from scripts/services.sh. */
export function databaseUrl(): string {
  const url = process.env['DATABASE_URL'];
  if (url === undefined) throw new Error('DATABASE_URL is not set: run scripts/services.sh');
  return url;
}

/** A fresh, unique name fragment: `<label>_<hex>` (valid as a schema name or key prefix). */
export function uniqueName(label: string): string {
  return `${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
}
