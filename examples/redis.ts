// Scale out with Redis: a reliable priority queue shared by two workers (leases, ack,
// retries, dead letters) and cross-process pub/sub with majra's wildcard rules.
// Each object below opens its own connection from the URL, exactly as separate
// processes would. Needs a Redis server: REDIS_URL (default redis://127.0.0.1:6379).
// Run: npm run build && REDIS_URL=redis://127.0.0.1:6379 node --import tsx examples/redis.ts
import { randomUUID } from 'node:crypto';
import { connectRedisPubSub, connectRedisQueue, type RedisQueue } from 'majra/redis';

const url = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const name = `emails-${randomUUID().slice(0, 8)}`; // a fresh queue per run

interface Email {
  to: string;
}

// --- distributed queue ---------------------------------------------------------------
// A job is delivered at most `maxAttempts` times, then dead-lettered; a worker that dies
// holding a job loses its lease after `visibilityTimeoutMs` and the job is redelivered.
const options = { maxAttempts: 2, visibilityTimeoutMs: 30_000 };
const producer = await connectRedisQueue<Email>(url, name, options);
for (const to of ['a@example.com', 'b@example.com', 'c@example.com', 'bounce@example.com']) {
  await producer.enqueue({ to }, { priority: to.startsWith('c') ? 9 : 2 }); // 0..255, higher first
}

async function worker(id: string, queue: RedisQueue<Email>): Promise<string[]> {
  const done: string[] = [];
  for (;;) {
    const job = await queue.dequeue(); // claims the job under a lease
    if (job === undefined) return done;
    if (job.payload.to.startsWith('bounce')) {
      const outcome = await queue.nack(job, { error: new Error('mailbox full') });
      console.log(`${id}: ${job.payload.to} failed (attempt ${job.attempt}) -> ${outcome}`);
      continue;
    }
    await queue.ack(job); // done: the job is deleted
    done.push(job.payload.to);
  }
}
const workers = await Promise.all([
  connectRedisQueue<Email>(url, name, options),
  connectRedisQueue<Email>(url, name, options),
]);
const results = await Promise.all(workers.map((queue, i) => worker(`worker-${i + 1}`, queue)));
console.log(`sent ${results.flat().sort().join(', ')}`);
const dead = await producer.deadLetters();
console.log(`dead letters: ${dead.length} (${dead[0]?.error ?? ''})`);
console.log('queue stats', JSON.stringify(await producer.stats()));

// --- pub/sub across connections --------------------------------------------------------
const subscriberSide = await connectRedisPubSub<{ id: number }>(url, name);
const publisherSide = await connectRedisPubSub<{ id: number }>(url, name);
const rx = await subscriberSide.subscribe('orders/+/created'); // resolves once Redis confirmed
await publisherSide.publish('orders/eu/created', { id: 1 });
await publisherSide.publish('orders/eu/cancelled', { id: 2 }); // does not match the pattern
await publisherSide.publish('orders/us/created', { id: 3 });
for (let i = 0; i < 2; i++) {
  const message = await rx.recv({ signal: AbortSignal.timeout(5_000) });
  console.log(`received ${message.topic} ${JSON.stringify(message.payload)}`);
}
rx.close();

await producer.clear(); // remove this run's keys
for (const closeable of [producer, ...workers, subscriberSide, publisherSide])
  await closeable.close();
console.log('redis example done');
