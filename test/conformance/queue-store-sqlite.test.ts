import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteQueueStore } from '../../src/backends/sqlite/queue-store.js';
import { describeQueueStore } from './queue-store.suite.js';

describeQueueStore('SqliteQueueStore (file, WAL)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'majra-qs-'));
  const file = join(dir, 'queue.db');
  const opened: SqliteQueueStore[] = [SqliteQueueStore.open(file)];
  return {
    store: opened[0]!,
    reopen: () => {
      const store = SqliteQueueStore.open(file);
      opened.push(store);
      return store;
    },
    cleanup: async () => {
      for (const store of opened) await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
