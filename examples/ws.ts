// The WebSocket bridge: browser or service clients subscribe to a hub's topics over a
// small JSON protocol, scoped to their tenant. The client here is the `ws` package; a
// browser's WebSocket speaks the same frames.
// Run: npm run build && node --import tsx examples/ws.ts
import { once } from 'node:events';
import WebSocket from 'ws';
import { Namespace } from 'majra';
import { PubSub } from 'majra/pubsub';
import { WsBridge } from 'majra/ws';

const hub = new PubSub();
const bridge = new WsBridge({
  hub,
  // Runs before the upgrade completes; false (or a throw) answers HTTP 401.
  authenticate: (request) => {
    const tenant = new URL(request.url ?? '/', 'http://localhost').searchParams.get('tenant');
    return tenant === null ? false : { namespace: new Namespace(tenant) };
  },
});
const { port } = await bridge.listen({ port: 0, host: '127.0.0.1' }); // port 0: any free port

const client = new WebSocket(`ws://127.0.0.1:${port}/?tenant=acme`);
const nextFrame = async (): Promise<Record<string, unknown>> => {
  const [data] = (await once(client, 'message')) as [Buffer];
  const frame = JSON.parse(data.toString()) as Record<string, unknown>;
  return frame;
};

console.log('server:', JSON.stringify(await nextFrame())); // hello
client.send(JSON.stringify({ v: 1, op: 'subscribe', pattern: 'orders/+', id: 's1' }));
console.log('server:', JSON.stringify(await nextFrame())); // subscribed

// Server-side publishes: the tenant sees its own topics, with the prefix removed.
hub.publish('globex/orders/1', { total: 1 }); // another tenant: never delivered
hub.publish('acme/orders/7', { total: 42 });
const message = await nextFrame();
console.log(`client got ${String(message['topic'])}: ${JSON.stringify(message['payload'])}`);

client.close();
await once(client, 'close');
await bridge.close();
await hub.close();
console.log('ws example done');
