// The compact form of a single plain handler on an exact topic (the handler stored in
// the topic's Map slot) must be indistinguishable from a full subscription: ordering,
// unsubscribe identity and idempotence, upgrades when more subscriptions join.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TypedPubSub } from './typed-pubsub.js';
import type { Receiver } from './receiver.js';
import type { TypedMessage } from './types.js';

describe('TypedPubSub compact handler subscriptions', () => {
  it('the same handler twice on one topic: each handle removes one subscription, once', () => {
    const hub = new TypedPubSub<number>();
    const seen: number[] = [];
    const handler = (n: number): void => void seen.push(n);
    const off1 = hub.on('a', handler);
    const off2 = hub.on('a', handler);
    expect(hub.publish('a', 1)).toBe(2);
    off1();
    off1();
    expect(hub.subscriptionCount).toBe(1);
    expect(hub.publish('a', 2)).toBe(1);
    off2();
    off2();
    expect(hub.publish('a', 3)).toBe(0);
    expect(hub.patternCount).toBe(0);
    expect(seen).toEqual([1, 1, 2]);
  });

  it('a stale handle never removes a later subscription of the same handler', () => {
    const hub = new TypedPubSub<number>();
    const handler = (): void => undefined;
    const stale = hub.on('a', handler);
    expect(hub.unsubscribeAll('a')).toBe(1);
    const fresh = hub.on('a', handler);
    stale();
    expect(hub.publish('a', 1)).toBe(1);
    fresh();
    expect(hub.publish('a', 1)).toBe(0);
    const again = hub.on('a', handler);
    fresh();
    expect(hub.publish('a', 1)).toBe(1);
    again();
    expect(hub.subscriptionCount).toBe(0);
  });

  it('a handler subscribing to its own topic during a publish starts with the next one', () => {
    const hub = new TypedPubSub<number>();
    const calls: string[] = [];
    hub.on('a', () => {
      calls.push('first');
      if (calls.length === 1) hub.on('a', () => calls.push('second'));
    });
    expect(hub.publish('a', 1)).toBe(1);
    expect(hub.publish('a', 2)).toBe(2);
    expect(calls).toEqual(['first', 'first', 'second']);
  });

  it('a throwing compact handler is reported and counted as delivered', () => {
    const errors: Error[] = [];
    const hub = new TypedPubSub<number>({ onError: (e) => errors.push(e) });
    hub.on('a', () => {
      throw new Error('boom');
    });
    hub.on('w/+', () => undefined);
    expect(hub.publish('a', 1)).toBe(1);
    expect(errors.map((e) => e.message)).toEqual(['boom']);
    expect(hub.stats()).toMatchObject({ published: 1, delivered: 1 });
  });

  it('handles on a closed hub do nothing', async () => {
    const hub = new TypedPubSub<number>();
    const off = hub.on('a', () => undefined);
    await hub.close();
    expect(hub.subscriptionCount).toBe(0);
    off();
    expect(hub.subscriptionCount).toBe(0);
  });

  it('agrees with a model under random on / off / unsubscribeAll / receivers / publish', () => {
    const topics = ['a', 'w/1'];
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('on' as const),
        topic: fc.integer({ min: 0, max: 2 }),
        handler: fc.integer({ min: 0, max: 1 }),
      }),
      fc.record({ kind: fc.constant('rx' as const), topic: fc.integer({ min: 0, max: 1 }) }),
      fc.record({ kind: fc.constant('off' as const), which: fc.nat() }),
      fc.record({ kind: fc.constant('all' as const), topic: fc.integer({ min: 0, max: 2 }) }),
      fc.record({ kind: fc.constant('pub' as const), topic: fc.integer({ min: 0, max: 1 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 20 }), (ops) => {
        const hub = new TypedPubSub<number>({ capacity: 1000 });
        const log: string[] = [];
        const handlers = [0, 1].map((h) => (_: number, topic: string) => log.push(`${h}@${topic}`));
        interface ModelSub {
          readonly pattern: string;
          readonly label: string;
          alive: boolean;
          readonly off: () => void;
          readonly rx: Receiver<TypedMessage<number>> | undefined;
        }
        const model: ModelSub[] = [];
        const patternOf = (i: number): string => (i === 2 ? 'w/+' : (topics[i] as string));
        for (const o of ops) {
          if (o.kind === 'on') {
            const pattern = patternOf(o.topic);
            const off = hub.on(pattern, handlers[o.handler] as (n: number, t: string) => void);
            model.push({ pattern, label: String(o.handler), alive: true, off, rx: undefined });
          } else if (o.kind === 'rx') {
            const pattern = patternOf(o.topic);
            const rx = hub.subscribe(pattern);
            model.push({ pattern, label: 'rx', alive: true, off: () => rx.close(), rx });
          } else if (o.kind === 'off') {
            if (model.length === 0) continue;
            const sub = model[o.which % model.length] as ModelSub;
            sub.off();
            sub.alive = false;
          } else if (o.kind === 'all') {
            const pattern = patternOf(o.topic);
            const expected = model.filter((s) => s.alive && s.pattern === pattern).length;
            expect(hub.unsubscribeAll(pattern)).toBe(expected);
            for (const s of model) if (s.pattern === pattern) s.alive = false;
          } else {
            const topic = topics[o.topic] as string;
            const matching = (s: ModelSub): boolean =>
              s.alive && (s.pattern === topic || (s.pattern === 'w/+' && topic.startsWith('w/')));
            // Exact subscriptions first, then the wildcard's, each in subscription order.
            const expected = [
              ...model.filter((s) => matching(s) && s.pattern === topic),
              ...model.filter((s) => matching(s) && s.pattern !== topic),
            ];
            log.length = 0;
            expect(hub.publish(topic, 1)).toBe(expected.length);
            const handlerCalls = expected.filter((s) => s.rx === undefined);
            expect(log).toEqual(handlerCalls.map((s) => `${s.label}@${topic}`));
            for (const s of expected) {
              if (s.rx !== undefined) expect(s.rx.tryRecv().status).toBe('ok');
            }
          }
          const alive = model.filter((s) => s.alive);
          expect(hub.subscriptionCount).toBe(alive.length);
          expect(hub.patternCount).toBe(new Set(alive.map((s) => s.pattern)).size);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
