// Prometheus metrics: pass a PrometheusSink as the `metrics` option of any primitive and
// serve its registry on /metrics. Names follow majra_<area>_<thing>_<unit>; labels come
// from small fixed sets (never ids or raw topics), so series stay bounded.
// Run: npm run build && node --import tsx examples/prometheus.ts
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PrometheusSink } from 'majra/prometheus';
import { ManagedQueue, Priority } from 'majra/queue';
import { RateLimiter } from 'majra/ratelimit';

const metrics = new PrometheusSink(); // or new PrometheusSink({ registry: yourRegistry })

const queue = new ManagedQueue<string>({ name: 'thumbnails', metrics });
const limiter = new RateLimiter({ ratePerSecond: 1, burst: 2, metrics });
for (let i = 0; i < 3; i++) await queue.enqueue(Priority.Normal, `img-${i}`);
const job = await queue.dequeue();
if (job !== undefined) await queue.complete(job.id);
for (let i = 0; i < 3; i++) limiter.check('client-1');

// GET /metrics on a real HTTP server, as Prometheus would scrape it.
const server = createServer(metrics.handler()).listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const { port } = server.address() as AddressInfo;
const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
for (const line of body.split('\n')) {
  if (/^majra_(queue_depth|queue_enqueued_total|ratelimit_\w+_total)\{/.test(line))
    console.log(line);
}

server.close();
await queue.close();
await limiter.close();
console.log('prometheus example done');
