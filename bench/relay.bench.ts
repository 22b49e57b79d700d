// Relay and transport benchmarks, peers measured in the same run:
// - CircuitBreaker.execute() vs opossum fire() around the same resolved async function;
// - Relay request/response over a Unix socket vs a raw Unix-socket echo round trip
//   (answering side in a child process for both, sequential round trips).
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Opossum from 'opossum';
import { PeerRouter } from '../src/relay/peer-router.js';
import { Relay } from '../src/relay/relay.js';
import { CircuitBreaker } from '../src/transport/circuit-breaker.js';
import { ConnectionPool } from '../src/transport/connection-pool.js';
import { UnixSocketTransport } from '../src/transport/unix.js';
import {
  measure,
  measureAlternating,
  type BenchOptions,
  type BenchReport,
  type BenchRow,
} from './lib.js';

async function breakerRows(options: BenchOptions): Promise<BenchRow[]> {
  const work = (x: number): Promise<number> => Promise.resolve(x + 1);
  const majra = new CircuitBreaker();
  const opossum = new Opossum(work, { timeout: false });
  const opossumDefault = new Opossum(work);
  let n = 0;
  const results = await measure(
    {
      'majra CircuitBreaker.execute': () => majra.execute(() => work(n++)),
      'opossum fire (timeout: false)': () => opossum.fire(n++),
      'opossum fire (defaults)': () => opossumDefault.fire(n++),
    },
    options,
  );
  opossum.shutdown();
  opossumDefault.shutdown();
  const m = results.get('majra CircuitBreaker.execute')!;
  const p = results.get('opossum fire (timeout: false)')!;
  const d = results.get('opossum fire (defaults)')!;
  return [
    {
      name: 'circuit-breaker-wrapped async call (closed)',
      unit: 'calls/s',
      majra: m.hz,
      spread: m.spread,
      peer: { name: 'opossum 9 fire(), timeout: false', value: p.hz, spread: p.spread },
      targetRatio: 2,
      target: '>= 2x opossum fire()',
    },
    {
      name: 'circuit-breaker-wrapped async call vs opossum defaults (10 s timeout timer per call)',
      unit: 'calls/s',
      majra: m.hz,
      spread: m.spread,
      peer: { name: 'opossum 9 fire(), defaults', value: d.hz, spread: d.spread },
      targetRatio: 2,
      target: '>= 2x opossum fire()',
    },
  ];
}

const helper = new URL('./fixtures/relay-echo-server.ts', import.meta.url).pathname;
// The answering process measures the same compiled dist/ as this one (see use-dist.mjs).
const useDist = new URL('./use-dist.mjs', import.meta.url).pathname;

/** Starts the helper process and resolves once it listens. */
async function startHelper(args: string[]): Promise<ChildProcess> {
  const child = fork(helper, args, {
    execArgv: ['--import', 'tsx', '--import', useDist],
    stdio: 'inherit',
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`bench helper exited (${code})`)));
  });
  return child;
}

async function stopHelper(child: ChildProcess): Promise<void> {
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.disconnect();
  await exited;
}

async function echoClient(dir: string) {
  const path = join(dir, 'echo.sock');
  const child = await startHelper(['raw', path]);
  const client: Socket = createConnection({ path });
  await new Promise<void>((r) => client.once('connect', r));
  let want = 0;
  let got = 0;
  let done: (() => void) | undefined;
  client.on('data', (chunk: Buffer) => {
    got += chunk.length;
    if (got >= want && done !== undefined) {
      const d = done;
      done = undefined;
      d();
    }
  });
  // Roughly the size of a framed relay request.
  const payload = Buffer.alloc(200, 120);
  const roundTrip = (): Promise<void> =>
    new Promise<void>((resolve) => {
      want = got + payload.length;
      done = resolve;
      client.write(payload);
    });
  const close = async (): Promise<void> => {
    client.destroy();
    await stopHelper(child);
  };
  return { roundTrip, close };
}

/** A relay-sized JSON message, as the Relay puts it on the wire. */
const wireMessage = {
  seq: 1,
  epoch: 1_764_000_000_000,
  from: 'a',
  to: 'b',
  topic: 'echo',
  payload: { text: 'x'.repeat(32) },
  timestamp: '2026-11-29T16:00:00.000Z',
  is_reply: false,
  correlation_id: '6f1c1a9e-9a53-4c43-a7a2-6b7f0b9b2f11',
};

/** The payload alone, as the relay's requests in this bench carry it. */
const payloadMessage = { text: 'x'.repeat(32) };

/**
 * The floor for any JSON message layer: `message` stringified + framed, parsed on both
 * ends, one socket (a relay-sized envelope, or the bare payload: the least JSON exchange).
 */
async function jsonEchoClient(dir: string, name: string, message: unknown) {
  const path = join(dir, `${name}.sock`);
  const child = await startHelper(['json', path]);
  const client: Socket = createConnection({ path });
  await new Promise<void>((r) => client.once('connect', r));
  let pending: Buffer = Buffer.alloc(0);
  let done: ((value: unknown) => void) | undefined;
  client.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    if (pending.length < 4 || pending.length < 4 + pending.readUInt32BE(0)) return;
    const size = pending.readUInt32BE(0);
    const value: unknown = JSON.parse(pending.toString('utf8', 4, 4 + size));
    pending = pending.subarray(4 + size);
    const d = done;
    done = undefined;
    d?.(value);
  });
  const roundTrip = (): Promise<unknown> =>
    new Promise<unknown>((resolve) => {
      done = resolve;
      const text = JSON.stringify(message);
      const frame = Buffer.allocUnsafe(4 + Buffer.byteLength(text));
      frame.writeUInt32BE(frame.length - 4, 0);
      frame.write(text, 4);
      client.write(frame);
    });
  const close = async (): Promise<void> => {
    client.destroy();
    await stopHelper(child);
  };
  return { roundTrip, close };
}

/**
 * The floor of majra's own transport: the bytes of a relay-sized binary envelope sent as
 * one message over a UnixSocketTransport connection and sent back by the peer (framing,
 * tagging and the push-style consume path; no envelope, dedup or correlation).
 */
async function transportEchoClient(dir: string) {
  const path = join(dir, 'transport.sock');
  const child = await startHelper(['transport', path]);
  const transport = new UnixSocketTransport();
  const connection = await transport.connect(path);
  let done: (() => void) | undefined;
  const consuming = connection.consume?.(() => {
    const d = done;
    done = undefined;
    d?.();
  });
  const bytes = new Uint8Array(130).fill(120);
  const roundTrip = (): Promise<void> =>
    new Promise<void>((resolve) => {
      done = resolve;
      void connection.send(bytes);
    });
  const close = async (): Promise<void> => {
    await connection.close();
    await consuming?.catch(() => undefined);
    await stopHelper(child);
  };
  return { roundTrip, close };
}

async function relayClient(dir: string) {
  const transport = new UnixSocketTransport();
  const pathA = join(dir, 'a.sock');
  const pathB = join(dir, 'b.sock');
  const pool = new ConnectionPool(transport);
  const a = new Relay('a', { router: new PeerRouter(pool, { peers: { b: pathB } }) });
  const listener = await a.listen(transport, pathA);
  const child = await startHelper(['relay', pathB, pathA]);
  const payload = { text: 'x'.repeat(32) };
  const roundTrip = async (): Promise<void> => {
    await a.request('b', 'echo', payload);
  };
  await roundTrip(); // dial both directions before measuring
  const close = async (): Promise<void> => {
    await a.close();
    await pool.close();
    await listener.close();
    await stopHelper(child);
  };
  return { roundTrip, close };
}

async function relayRows(options: BenchOptions): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'majra-bench-'));
  try {
    const echo = await echoClient(dir);
    const json = await jsonEchoClient(dir, 'json', wireMessage);
    const bare = await jsonEchoClient(dir, 'payload', payloadMessage);
    const framed = await transportEchoClient(dir);
    const relay = await relayClient(dir);
    // Alternating rounds: round trips between processes depend on scheduling, which
    // drifts on a shared machine; interleaving lets both sides see the same machine.
    const results = await measureAlternating(
      {
        'raw unix echo round trip': echo.roundTrip,
        'raw JSON echo round trip': json.roundTrip,
        'raw payload-only JSON echo round trip': bare.roundTrip,
        'majra transport byte echo round trip': framed.roundTrip,
        'majra Relay request/response over unix': relay.roundTrip,
      },
      { ...options, rounds: 9, roundMs: 300 },
    );
    await echo.close();
    await json.close();
    await bare.close();
    await framed.close();
    await relay.close();
    const m = results.get('majra Relay request/response over unix')!;
    const p = results.get('raw unix echo round trip')!;
    const j = results.get('raw JSON echo round trip')!;
    const t = results.get('majra transport byte echo round trip')!;
    const b = results.get('raw payload-only JSON echo round trip')!;
    return [
      {
        name: 'request/response round trip over a Unix socket (sequential)',
        unit: 'round trips/s',
        majra: m.hz,
        spread: m.spread,
        peer: { name: 'raw node:net Unix-socket echo', value: p.hz, spread: p.spread },
        targetRatio: 0.8,
        target: '>= 0.8x raw echo round trip',
      },
      {
        name: 'request/response round trip over a Unix socket (sequential), vs a JSON echo',
        unit: 'round trips/s',
        majra: m.hz,
        spread: m.spread,
        peer: {
          name: 'raw node:net JSON echo (stringify + parse both ends, one socket)',
          value: j.hz,
          spread: j.spread,
        },
      },
      {
        name: 'least JSON exchange: the 45-byte payload alone, length-prefixed, stringified and parsed at both ends (no relay), vs the raw echo',
        unit: 'round trips/s',
        majra: b.hz,
        spread: b.spread,
        peer: { name: 'raw node:net Unix-socket echo', value: p.hz, spread: p.spread },
      },
      {
        name: 'framed byte echo through majra transport (no relay logic), vs the raw echo',
        unit: 'round trips/s',
        majra: t.hz,
        spread: t.spread,
        peer: { name: 'raw node:net Unix-socket echo', value: p.hz, spread: p.spread },
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(options: BenchOptions): Promise<BenchReport> {
  const rows = [...(await breakerRows(options)), ...(await relayRows(options))];
  return {
    area: 'relay',
    rows,
    notes: [
      'Breaker: both wrap the same resolved async function; the breaker is closed throughout.',
      'Relay: a.request("b") with b answering through relay.handle(); binary envelope (wire version 2, JSON payload) + framing + dedup + correlation + timeout, reply on a second connection. Echo: 200 raw bytes written and read back on one socket. JSON echo: a relay-sized JSON envelope stringified, framed, parsed and re-serialised by the peer, on one socket: the floor of any JSON message layer. Least JSON exchange: the same hand-written echo carrying only the request payload ({"text": 32 x "x"}, 45 bytes): no envelope, no ids, no relay logic; what any protocol that carries a JSON payload must at least do, measured against the raw echo. Its ratio is the ceiling of the relay row above on the same machine. In every case the answering side is a separate process running dist/ (bench/fixtures/relay-echo-server.ts), round trips are sequential, and the five are measured in alternating rounds. Transport echo: a 130-byte message (the size of a relay request envelope) through UnixSocketTransport both ways, echoed by the peer: the floor any protocol on the majra transport starts from.',
    ],
  };
}
