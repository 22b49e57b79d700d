// Pub/sub in one process: a typed hub with MQTT-style wildcards, a bounded receiver with
// replay, and a multi-tenant JSON hub where a tenant's '#' only sees its own topics.
// Run: npm run build && node --import tsx examples/pubsub.ts
import { Namespace } from 'majra';
import { PubSub, TypedPubSub } from 'majra/pubsub';

interface Reading {
  celsius: number;
}

// Keep the last reading of every topic so late subscribers start with the current state.
const hub = new TypedPubSub<Reading>({ replayCapacity: 1 });

// A handler runs synchronously inside publish(); `+` matches exactly one level.
const off = hub.on('sensors/+/temp', (reading, topic) => {
  console.log(`handler: ${topic} = ${reading.celsius} C`);
});
const delivered = hub.publish('sensors/kitchen/temp', { celsius: 21 });
console.log(`publish reached ${delivered} subscription(s)`);

// A receiver is a bounded buffer (here 100 messages, dropping the oldest when full).
// It first gets the replayed message, then live traffic.
{
  using rx = hub.subscribe('sensors/#', { capacity: 100, overflow: 'drop-oldest' });
  hub.publish('sensors/cellar/temp', { celsius: 12 });
  for (let i = 0; i < 2; i++) {
    const message = await rx.recv({ signal: AbortSignal.timeout(1_000) });
    console.log(`receiver: ${message.topic} = ${message.payload.celsius} C`);
  }
} // `using` closes the receiver, which unsubscribes it
off();

// The JSON hub with tenants: every topic of the 'acme' view lives under 'acme/'.
const json = new PubSub({ maxPayloadBytes: 64 * 1024 });
const acme = json.namespace(new Namespace('acme'));
const globex = json.namespace(new Namespace('globex'));
const acmeRx = acme.subscribe('#');
globex.publish('orders/1', { total: 99 }); // never reaches acme
acme.publish('orders/7', { total: 42 });
const order = await acmeRx.recv();
console.log(`tenant acme got ${order.topic}: ${JSON.stringify(order.payload)}`);

await hub.close();
await json.close();
console.log('pubsub example done');
