import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../core/codec.js';
import { MemoryTransport } from './memory.js';
import type { Connection, TransportMessage } from './types.js';

async function pair(net = new MemoryTransport()): Promise<[Connection, Connection]> {
  let server: Connection | undefined;
  await net.listen('srv', (c) => (server = c));
  const client = await net.connect('srv');
  return [client, server!];
}

describe('MemoryTransport', () => {
  it('delivers messages in order in both directions, as copies', async () => {
    const [client, server] = await pair();
    const payload = { n: 1, list: [1, 2] };
    await client.send(payload);
    await client.send('two');
    await server.send({ back: true });
    const it = server.incoming()[Symbol.asyncIterator]();
    const first = (await it.next()).value as JsonValue;
    expect(first).toEqual(payload);
    expect(first).not.toBe(payload);
    expect((await it.next()).value).toBe('two');
    const back = client.incoming()[Symbol.asyncIterator]();
    expect((await back.next()).value).toEqual({ back: true });
  });

  it('unknown endpoints reject with ERR_TRANSPORT_UNKNOWN_ENDPOINT', async () => {
    const net = new MemoryTransport();
    await expect(net.connect('nobody')).rejects.toMatchObject({
      code: 'ERR_TRANSPORT_UNKNOWN_ENDPOINT',
    });
    await expect(net.connect('')).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  it('closing one side ends the other side and fails sends', async () => {
    const [client, server] = await pair();
    await client.send(1);
    await client.close();
    expect(client.isConnected).toBe(false);
    const got: TransportMessage[] = [];
    for await (const m of server.incoming()) got.push(m);
    expect(got).toEqual([1]);
    expect(server.isConnected).toBe(false);
    await expect(client.send(2)).rejects.toMatchObject({ code: 'ERR_TRANSPORT_CONNECTION_CLOSED' });
    await expect(server.send(2)).rejects.toMatchObject({ code: 'ERR_TRANSPORT_CONNECTION_CLOSED' });
  });

  it('bounds the receive buffer: send waits for space, and can be aborted', async () => {
    const [client, server] = await pair(new MemoryTransport({ maxBufferedMessages: 2 }));
    await client.send(1);
    await client.send(2);
    let sent = false;
    const third = client.send(3).then(() => (sent = true));
    await new Promise((r) => setImmediate(r));
    expect(sent).toBe(false);
    const it = server.incoming()[Symbol.asyncIterator]();
    expect((await it.next()).value).toBe(1);
    await third;
    expect(sent).toBe(true);
    const controller = new AbortController();
    const blocked = client.send(4, { signal: controller.signal });
    controller.abort();
    await expect(blocked).rejects.toMatchObject({ code: 'ERR_ABORTED' });
  });

  it('refuses oversized and non-serialisable messages without breaking the connection', async () => {
    const [client, server] = await pair(new MemoryTransport({ maxMessageBytes: 16 }));
    await expect(client.send('x'.repeat(100))).rejects.toMatchObject({
      code: 'ERR_IPC_FRAME_TOO_LARGE',
    });
    await expect(client.send(undefined as unknown as JsonValue)).rejects.toMatchObject({
      code: 'ERR_CODEC_NOT_SERIALIZABLE',
    });
    await client.send('ok');
    const it = server.incoming()[Symbol.asyncIterator]();
    expect((await it.next()).value).toBe('ok');
  });

  it('carries bytes as copies, under the same cap as a socket frame (tag included)', async () => {
    const [client, server] = await pair(new MemoryTransport({ maxMessageBytes: 16 }));
    const bytes = new Uint8Array([1, 2, 3]);
    await client.send(bytes);
    bytes[0] = 9;
    await expect(client.send(new Uint8Array(16))).rejects.toMatchObject({
      code: 'ERR_IPC_FRAME_TOO_LARGE',
    });
    await client.send(new Uint8Array(15));
    const it = server.incoming()[Symbol.asyncIterator]();
    expect([...((await it.next()).value as Uint8Array)]).toEqual([1, 2, 3]);
    expect(((await it.next()).value as Uint8Array).length).toBe(15);
  });

  it('one listener per endpoint; a closed listener frees it', async () => {
    const net = new MemoryTransport();
    const listener = await net.listen('a', () => undefined);
    await expect(net.listen('a', () => undefined)).rejects.toMatchObject({
      code: 'ERR_INVALID_STATE',
    });
    await listener.close();
    await expect(net.connect('a')).rejects.toMatchObject({
      code: 'ERR_TRANSPORT_UNKNOWN_ENDPOINT',
    });
    await net.listen('a', () => undefined);
    expect(net.endpoints).toEqual(['a']);
  });
});
