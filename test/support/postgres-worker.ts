// Child process for the PostgreSQL worker tests. Modes (env MODE):
//  drain: work QUEUE until the parent sends 'stop', then report every payload it ran.
//  hold:  claim jobs through work() with a handler that never finishes, report their ids
//         ('holding'), and wait to be SIGKILLed.
import { connectPostgresJobQueue } from '../../src/backends/postgres/index.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

const send = (message: unknown): void => {
  process.send?.(message);
};

const queueName = env('QUEUE');
const mode = env('MODE');
const jobs = await connectPostgresJobQueue({
  connectionString: env('DATABASE_URL'),
  schema: env('SCHEMA'),
  maxPoolSize: 4,
  leaseMs: Number(process.env['LEASE_MS'] ?? 30_000),
  onError: (error) => send({ type: 'error', message: error.message }),
});

if (mode === 'drain') {
  const ran: number[] = [];
  const worker = jobs.work<{ n: number }>(queueName, (job) => void ran.push(job.payload.n), {
    concurrency: 64,
    batchSize: 100,
  });
  process.on('message', (message) => {
    if (message !== 'stop') return;
    void (async () => {
      await worker.close();
      await jobs.close();
      send({ type: 'done', ran });
      process.disconnect();
    })();
  });
  send({ type: 'ready' });
} else if (mode === 'hold') {
  const held: string[] = [];
  const want = Number(env('HOLD'));
  jobs.work(
    queueName,
    (job) => {
      held.push(job.id);
      if (held.length === want) send({ type: 'holding', ids: held });
      return new Promise(() => undefined);
    },
    { concurrency: want, batchSize: want },
  );
  send({ type: 'ready' });
} else {
  throw new Error(`unknown MODE ${mode}`);
}
