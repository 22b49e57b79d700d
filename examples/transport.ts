// Transports, the connection pool and the circuit breaker: a TCP echo over the IPC
// framing, then a dead endpoint whose breaker opens after repeated failures so callers
// fail fast instead of dialling again, and a breaker wrapped around any async call.
// Run: npm run build && node --import tsx examples/transport.ts
import { setTimeout as sleep } from 'node:timers/promises';
import { isMajraError } from 'majra';
import { CircuitBreaker, ConnectionPool, TcpTransport } from 'majra/transport';

const tcp = new TcpTransport();

// A server that echoes every message back (port 0: the OS picks a free port). A
// message is a JSON value or, when the peer sent bytes, a Uint8Array.
const listener = await tcp.listen('127.0.0.1:0', (connection) => {
  void (async () => {
    for await (const message of connection.incoming()) {
      await connection.send(message instanceof Uint8Array ? message : { echo: message });
    }
  })().catch(() => undefined); // the peer went away
});

const pool = new ConnectionPool(tcp, {
  connectTimeoutMs: 2_000,
  breaker: { failureThreshold: 2, cooldownMs: 30_000 },
  onCircuitStateChange: ({ name, from, to }) => console.log(`breaker ${name}: ${from} -> ${to}`),
});
const connection = await pool.acquire(listener.endpoint);
await connection.send({ hello: 'tcp' });
for await (const reply of connection.incoming()) {
  console.log('echo:', JSON.stringify(reply));
  break; // one reply is all we wanted
}

// Nothing listens on port 1: two failed dials open that endpoint's circuit; the third
// call is refused at once with ERR_TRANSPORT_CIRCUIT_OPEN, without touching the network.
for (let i = 1; i <= 3; i++) {
  try {
    await pool.acquire('127.0.0.1:1');
  } catch (error) {
    console.log(`dial ${i}: ${isMajraError(error) ? error.code : String(error)}`);
  }
}

// The breaker on its own, around any async call (here with a short cooldown).
const breaker = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 100 });
breaker.onStateChange(({ from, to }) => console.log(`service breaker: ${from} -> ${to}`));
let healthy = false;
const callService = async (): Promise<string> => {
  if (!healthy) throw new Error('503');
  return 'ok';
};
for (let i = 0; i < 4; i++) await breaker.execute(callService).catch(() => undefined);
console.log('after failures:', breaker.state, JSON.stringify(breaker.stats()));
healthy = true;
await sleep(150); // cooldown over: the next call is a half-open probe
console.log('probe result:', await breaker.execute(callService), '->', breaker.state);

await pool.close();
await listener.close();
console.log('transport example done');
