// Redis helpers for integration tests: a per-file random prefix, a client factory that
// closes everything it made, and SCAN + DEL cleanup of the prefix.
import { Redis } from 'ioredis';
import { escapeGlob } from '../../src/backends/redis/keys.js';
import { redisUrl, uniqueName } from './services.js';

/** A test file's Redis scope: unique prefix, tracked clients, cleanup. */
export interface RedisScope {
  readonly prefix: string;
  /** A new client (closed by `cleanup`). */
  client(connectionName?: string): Redis;
  /** Deletes every key under the prefix (SCAN + DEL) and closes the clients. */
  cleanup(): Promise<void>;
  /** Keys currently under the prefix. */
  keys(): Promise<string[]>;
}

export function redisScope(label: string): RedisScope {
  const prefix = `majra-test:${uniqueName(label)}:`;
  const clients: Redis[] = [];
  const admin = new Redis(redisUrl());
  const scan = async (): Promise<string[]> => {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await admin.scan(
        cursor,
        'MATCH',
        `${escapeGlob(prefix)}*`,
        'COUNT',
        1000,
      );
      cursor = next;
      found.push(...batch);
    } while (cursor !== '0');
    return found;
  };
  return {
    prefix,
    client(connectionName) {
      const c = new Redis(redisUrl(), connectionName === undefined ? {} : { connectionName });
      clients.push(c);
      return c;
    },
    keys: scan,
    async cleanup() {
      const keys = await scan();
      for (let i = 0; i < keys.length; i += 500) await admin.del(...keys.slice(i, i + 500));
      for (const c of clients) c.disconnect();
      await admin.quit();
    },
  };
}
