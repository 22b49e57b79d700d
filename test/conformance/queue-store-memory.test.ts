import { MemoryQueueStore } from '../../src/queue/memory-queue-store.js';
import { describeQueueStore } from './queue-store.suite.js';

describeQueueStore('MemoryQueueStore', () => {
  const store = new MemoryQueueStore();
  return { store, reopen: () => store, cleanup: () => undefined };
});
