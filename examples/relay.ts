// Two nodes exchanging sequenced, deduplicated messages and a request/reply. The nodes
// share an in-memory transport here; swap in UnixSocketTransport or TcpTransport (same
// API) to put them in different processes or hosts.
// Run: npm run build && node --import tsx examples/relay.ts
import { PeerRouter, Relay } from 'majra/relay';
import { ConnectionPool, MemoryTransport } from 'majra/transport';

const transport = new MemoryTransport();

// Each node listens on its endpoint and reaches peers through a pool (one breaker per peer).
function makeNode(
  nodeId: string,
  peers: Record<string, string>,
): { relay: Relay; pool: ConnectionPool } {
  const pool = new ConnectionPool(transport, {
    breaker: { failureThreshold: 3, cooldownMs: 5_000 },
  });
  const router = new PeerRouter(pool, { peers });
  const relay = new Relay(nodeId, { router, onError: (error) => console.error(nodeId, error) });
  return { relay, pool };
}
const a = makeNode('a', { b: 'mem://b' });
const b = makeNode('b', { a: 'mem://a' });
await a.relay.listen(transport, 'mem://a');
await b.relay.listen(transport, 'mem://b');

// b answers requests of type 'status'; a's request resolves with b's reply.
b.relay.handle('status', (request) => ({ ok: true, askedBy: request.from }));
const reply = await a.relay.request('b', 'status', null, { timeoutMs: 2_000 });
console.log(`a got reply from ${reply.from}: ${JSON.stringify(reply.payload)}`);

// Plain messages: each carries a per-sender sequence number; duplicates are dropped.
const inbox = b.relay.subscribe({ capacity: 100 });
await a.relay.send('b', 'job.done', { id: 1 });
await a.relay.send('b', 'job.done', { id: 2 });
for (let i = 0; i < 2; i++) {
  const { message } = await inbox.recv({ signal: AbortSignal.timeout(2_000) });
  console.log(`b received ${message.type} #${message.seq} ${JSON.stringify(message.payload)}`);
}
console.log('stats a', JSON.stringify({ sent: a.relay.stats().messagesSent }));

inbox.close();
for (const node of [a, b]) {
  await node.relay.close();
  await node.pool.close();
}
console.log('relay example done');
