// Fan-out of one topic to many WebSocket clients: WsBridge over a PubSub hub next to
// socket.io broadcasting to the same number of clients, in the same process run.
// Clients run in this process too (loopback), so both sides pay the same client cost.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server as IoServer } from 'socket.io';
import { io as ioClient, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import { WsBridge } from '../src/bridges/ws/index.js';
import { PubSub } from '../src/pubsub/pubsub.js';
import { median, percentile, spread, type BenchOptions, type BenchReport } from './lib.js';

interface Result {
  rate: number;
  p99: number;
}

async function waitAll(check: () => boolean, timeoutMs = 120_000): Promise<void> {
  const start = performance.now();
  while (!check()) {
    if (performance.now() - start > timeoutMs) throw new Error('fan-out did not complete');
    await new Promise((r) => setTimeout(r, 1));
  }
}

async function runMajra(clients: number, messages: number): Promise<Result> {
  const hub = new PubSub({ capacity: 65_536 });
  const bridge = new WsBridge({ hub, maxConnections: clients + 10, receiverCapacity: 65_536 });
  const { port } = await bridge.listen({ port: 0 });
  const latencies: number[] = [];
  let received = 0;
  const sockets: WebSocket[] = [];
  for (let i = 0; i < clients; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, clients - i) }, async () => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}`);
        sockets.push(ws);
        await new Promise<void>((resolve) => {
          ws.on('message', (data) => {
            const frame = JSON.parse((data as Buffer).toString('utf8')) as {
              type: string;
              payload?: number;
            };
            if (frame.type === 'hello') ws.send('{"op":"subscribe","pattern":"fan"}');
            else if (frame.type === 'subscribed') resolve();
            else if (frame.type === 'message') {
              received++;
              latencies.push(performance.now() - frame.payload!);
            }
          });
        });
      }),
    );
  }
  const start = performance.now();
  for (let m = 0; m < messages; m++) {
    hub.publish('fan', performance.now());
    if (m % 10 === 9) await new Promise((r) => setImmediate(r));
  }
  await waitAll(() => received === clients * messages);
  const elapsed = (performance.now() - start) / 1000;
  for (const ws of sockets) ws.terminate();
  await bridge.close();
  await hub.close();
  return { rate: received / elapsed, p99: percentile(latencies, 99) };
}

async function runSocketIo(clients: number, messages: number): Promise<Result> {
  const http = createServer();
  const io = new IoServer(http, { transports: ['websocket'] });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const { port } = http.address() as AddressInfo;
  const latencies: number[] = [];
  let received = 0;
  const sockets: Socket[] = [];
  for (let i = 0; i < clients; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, clients - i) }, async () => {
        const socket = ioClient(`http://127.0.0.1:${port}`, {
          transports: ['websocket'],
          forceNew: true,
        });
        sockets.push(socket);
        socket.on('m', (sent: number) => {
          received++;
          latencies.push(performance.now() - sent);
        });
        await new Promise<void>((resolve) => socket.on('connect', () => resolve()));
      }),
    );
  }
  const start = performance.now();
  for (let m = 0; m < messages; m++) {
    io.emit('m', performance.now());
    if (m % 10 === 9) await new Promise((r) => setImmediate(r));
  }
  await waitAll(() => received === clients * messages);
  const elapsed = (performance.now() - start) / 1000;
  for (const s of sockets) s.disconnect();
  await io.close();
  return { rate: received / elapsed, p99: percentile(latencies, 99) };
}

export async function run(options: BenchOptions): Promise<BenchReport> {
  const clients = options.quick ? 50 : 1000;
  const messages = options.quick ? 10 : 100;
  const rounds = options.quick ? 1 : 3;
  const majra: Result[] = [];
  const peer: Result[] = [];
  // Alternate the two so machine noise hits both alike.
  for (let r = 0; r < rounds; r++) {
    majra.push(await runMajra(clients, messages));
    peer.push(await runSocketIo(clients, messages));
  }
  const rates = majra.map((x) => x.rate);
  const peerRates = peer.map((x) => x.rate);
  return {
    area: 'WebSocket bridge',
    rows: [
      {
        name: `fan-out of one topic to ${clients} clients, ${messages} messages`,
        unit: 'msg/s delivered',
        majra: median(rates),
        spread: spread(rates),
        peer: { name: 'socket.io broadcast', value: median(peerRates), spread: spread(peerRates) },
      },
      {
        name: `p99 publish-to-receive latency, ${clients} clients`,
        unit: 'ms',
        majra: median(majra.map((x) => x.p99)),
        peer: { name: 'socket.io broadcast', value: median(peer.map((x) => x.p99)) },
        lowerIsBetter: true,
      },
    ],
    notes: [`${rounds} alternating rounds; clients and server share one process on loopback.`],
  };
}
