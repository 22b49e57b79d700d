import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isMajraError } from '../core/errors.js';
import { Namespace } from '../core/namespace.js';
import { patternArb, topicArb } from '../../test/support/topic-reference.js';
import { fromUntyped, PubSub, toUntyped, type TopicMessage } from './pubsub.js';

function drainTopics(rx: { tryRecv(): { status: string; value?: TopicMessage } }): string[] {
  const out: string[] = [];
  for (;;) {
    const r = rx.tryRecv();
    if (r.status !== 'ok' || r.value === undefined) return out;
    out.push(r.value.topic);
  }
}

describe('PubSub (JSON hub)', () => {
  it('round-trips a JSON message through a wildcard receiver', async () => {
    const hub = new PubSub();
    const rx = hub.subscribe('crew/*/status');
    expect(hub.publish('crew/abc/status', { done: true })).toBe(1);
    const m = await rx.recv();
    expect(m.topic).toBe('crew/abc/status');
    expect(m.payload).toEqual({ done: true });
    expect(typeof m.timestamp).toBe('number');
    expect(hub.publish('crew/abc/tasks/status', 1)).toBe(0);
    expect(hub.stats().published).toBe(2);
  });

  it('maxPayloadBytes refuses non-JSON and oversized payloads before delivering', async () => {
    const hub = new PubSub({ maxPayloadBytes: 16 });
    const rx = hub.subscribe('#');
    expect(hub.publish('a', 'small')).toBe(1);
    const tooBig = (): number => hub.publish('a', 'x'.repeat(100));
    expect(tooBig).toThrow(expect.objectContaining({ code: 'ERR_CODEC_TOO_LARGE' }) as Error);
    const bigint = 1n as unknown as string;
    expect(() => hub.publish('a', bigint)).toThrow(
      expect.objectContaining({ code: 'ERR_CODEC_NOT_SERIALIZABLE' }) as Error,
    );
    await expect(hub.publishAsync('a', 'x'.repeat(100))).rejects.toMatchObject({
      code: 'ERR_CODEC_TOO_LARGE',
    });
    expect(rx.pending).toBe(1);
    expect(() => new PubSub({ maxPayloadBytes: 0 })).toThrow();
  });

  it('toUntyped / fromUntyped', () => {
    const typed = { topic: 't', payload: { n: 1, d: new Date(0) }, timestamp: 5 };
    const untyped = toUntyped(typed);
    expect(untyped).toEqual({
      topic: 't',
      payload: { n: 1, d: '1970-01-01T00:00:00.000Z' },
      timestamp: 5,
    });
    const parsed = fromUntyped(untyped, (v) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('shape');
      return { n: Number(v['n']) };
    });
    expect(parsed.payload).toEqual({ n: 1 });
    let error: unknown;
    try {
      fromUntyped({ topic: 't', payload: 'str', timestamp: 0 }, () => {
        throw new Error('shape');
      });
    } catch (e) {
      error = e;
    }
    expect(isMajraError(error, 'ERR_INVALID_ARGUMENT')).toBe(true);
    expect(() => toUntyped({ topic: 't', payload: 1n, timestamp: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_CODEC_NOT_SERIALIZABLE' }) as Error,
    );
  });
});

describe('PubSub namespaces', () => {
  it('confines a tenant to its own topics, whatever it subscribes to', async () => {
    const hub = new PubSub();
    const acme = hub.namespace(new Namespace('acme'));
    const other = hub.namespace(new Namespace('other'));
    const all = acme.subscribe('#');
    const plus = acme.subscribe('+/+');
    const handled: string[] = [];
    acme.on('#', (_p, t) => handled.push(t));
    const root = hub.subscribe('#');
    other.publish('orders/1', 1);
    hub.publish('acme', 2); // the bare prefix is not a tenant topic
    hub.publish('acmex/orders/1', 3);
    acme.publish('orders/1', 4);
    expect(drainTopics(all)).toEqual(['orders/1']);
    expect(drainTopics(plus)).toEqual(['orders/1']);
    expect(handled).toEqual(['orders/1']);
    expect(drainTopics(root)).toEqual([
      'other/orders/1',
      'acme',
      'acmex/orders/1',
      'acme/orders/1',
    ]);
    expect(acme.unsubscribeAll('#')).toBe(2);
    expect(() => acme.subscribe('a/#/b')).toThrow(
      expect.objectContaining({ code: 'ERR_PUBSUB_INVALID_PATTERN' }) as Error,
    );
    expect(() => acme.publish('a/+', 1)).toThrow(
      expect.objectContaining({ code: 'ERR_PUBSUB_INVALID_TOPIC' }) as Error,
    );
    await expect(acme.publishAsync('orders/2', 5)).resolves.toBe(2); // acme '+/+' and root '#'
    expect(acme.namespace.prefix).toBe('acme');
  });

  it('property: a tenant never receives another tenant’s or an unscoped message', () => {
    fc.assert(
      fc.property(
        fc.array(patternArb, { minLength: 1, maxLength: 5 }),
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'root'), topicArb), { maxLength: 20 }),
        (patterns, publishes) => {
          const hub = new PubSub({ maxCachedTopics: 4 });
          const a = hub.namespace(new Namespace('a'));
          const b = hub.namespace(new Namespace('b'));
          const receivers = patterns.map((p) => a.subscribe(p, { capacity: 100 }));
          let fromA = 0;
          for (const [who, topic] of publishes) {
            if (who === 'a') {
              a.publish(topic, 'mine');
              fromA++;
            } else if (who === 'b') b.publish(topic, 'theirs');
            // the operator publishes outside tenant a's space (a topic `a/...` would be a's)
            else if (topic.split('/')[0] !== 'a') hub.publish(topic, 'root');
          }
          for (const rx of receivers) {
            let count = 0;
            for (;;) {
              const r = rx.tryRecv();
              if (r.status !== 'ok') break;
              expect(r.value.payload).toBe('mine');
              count++;
            }
            expect(count).toBeLessThanOrEqual(fromA);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
