// TypedPubSub fan-out: exact and wildcard receivers with every overflow policy, handlers,
// and subscription churn. The 'block' receivers are the reliable path: they must see
// every matching message exactly once, in order. Lossy receivers must account for every
// message as received or missed. Churned subscriptions must leave the index as it was.
import { TypedPubSub } from '../../src/pubsub/typed-pubsub.js';
import type { Receiver } from '../../src/pubsub/receiver.js';
import type { TypedMessage } from '../../src/pubsub/types.js';
import { matchesPattern } from '../../src/pubsub/topic.js';
import { describe, pause, paced, type SoakContext, type Workload } from '../lib.js';

interface Reading {
  readonly seq: number;
}

const TOPICS = ['soak/eu/temp', 'soak/eu/load', 'soak/us/temp', 'soak/us/load/cpu'];

interface Consumer {
  readonly pattern: string;
  readonly rx: Receiver<TypedMessage<Reading>>;
  readonly reliable: boolean;
  expected: number;
  received: number;
  lastSeq: number;
  outOfOrder: number;
}

export function startPubSub(ctx: SoakContext): Workload {
  const hub = new TypedPubSub<Reading>({
    onError: (error) => ctx.fail(`pubsub: ${describe(error)}`),
  });
  const consumers: Consumer[] = [];
  const add = (pattern: string, overflow: 'block' | 'drop-oldest' | 'drop-newest'): void => {
    consumers.push({
      pattern,
      rx: hub.subscribe(pattern, { capacity: overflow === 'block' ? 512 : 64, overflow }),
      reliable: overflow === 'block',
      expected: 0,
      received: 0,
      lastSeq: -1,
      outOfOrder: 0,
    });
  };
  add('soak/#', 'block');
  add('soak/+/temp', 'block');
  add('soak/eu/*', 'block');
  add('soak/us/load/cpu', 'block');
  add('soak/#', 'drop-oldest');
  add('soak/+/load', 'drop-newest');

  const handlerPatterns = ['soak/#', 'soak/eu/temp', 'soak/+/+'];
  const handlerCounts = handlerPatterns.map(() => ({ expected: 0, got: 0 }));
  const offs = handlerPatterns.map((pattern, i) =>
    hub.on(pattern, (payload) => {
      handlerCounts[i]!.got++;
      ctx.retain(payload);
    }),
  );
  const baseline = hub.stats();
  let published = 0;
  let returnMismatch = 0;
  let churned = 0;

  const drains = consumers.map(async (c) => {
    for await (const message of c.rx) {
      c.received++;
      if (message.payload.seq <= c.lastSeq) c.outOfOrder++;
      c.lastSeq = message.payload.seq;
      ctx.retain(message);
    }
  });

  // Every publish matches a known set of subscriptions: its return value must equal it.
  const expectedFor = TOPICS.map((topic) => {
    const rx = consumers.filter((c) => matchesPattern(c.pattern, topic));
    const handlers = handlerPatterns
      .map((p, i) => (matchesPattern(p, topic) ? i : -1))
      .filter((i) => i >= 0);
    return { rx, handlers };
  });

  const producer = paced(ctx.signal, 4000, async () => {
    const index = published % TOPICS.length;
    const topic = TOPICS[index]!;
    const match = expectedFor[index]!;
    const seq = published++;
    let accepted: number;
    try {
      accepted = await hub.publishAsync(topic, { seq });
    } catch (error) {
      ctx.fail(`pubsub: publishAsync failed: ${describe(error)}`);
      return;
    }
    for (const c of match.rx) c.expected++;
    for (const i of match.handlers) handlerCounts[i]!.expected++;
    if (accepted !== match.rx.length + match.handlers.length) returnMismatch++;
  });

  // Subscription churn: short-lived wildcard receivers and handlers come and go.
  const churn = (async () => {
    while (!ctx.signal.aborted) {
      const rx = hub.subscribe(`soak/+/churn${churned % 7}/#`, { capacity: 4 });
      const off = hub.on(`soak/eu/x${churned % 5}`, () => undefined);
      await pause(5, ctx.signal);
      rx.close();
      off();
      churned++;
    }
  })();

  return {
    name: 'pubsub',
    async stop() {
      await Promise.all([producer, churn]);
      const failures: string[] = [];
      // Reliable receivers drain everything already published.
      const deadline = performance.now() + 20_000;
      while (
        consumers.some((c) => c.reliable && c.received < c.expected) &&
        performance.now() < deadline
      ) {
        await pause(10);
      }
      const after = hub.stats();
      if (after.subscriptions !== baseline.subscriptions) {
        failures.push(
          `pubsub: ${after.subscriptions} subscriptions after churn, ${baseline.subscriptions} before`,
        );
      }
      for (const off of offs) off();
      await hub.close();
      await Promise.all(drains);
      for (const c of consumers) {
        const what = `pubsub ${c.pattern} (${c.rx.overflow})`;
        if (c.reliable) {
          if (c.received !== c.expected) {
            failures.push(`${what}: received ${c.received} of ${c.expected} (reliable path)`);
          }
          if (c.rx.missed !== 0) failures.push(`${what}: missed ${c.rx.missed} (reliable path)`);
        } else if (c.received + c.rx.missed !== c.expected) {
          failures.push(
            `${what}: received ${c.received} + missed ${c.rx.missed} != published ${c.expected}`,
          );
        }
        if (c.outOfOrder > 0) failures.push(`${what}: ${c.outOfOrder} messages out of order`);
      }
      handlerCounts.forEach((h, i) => {
        if (h.got !== h.expected) {
          failures.push(`pubsub handler ${handlerPatterns[i]}: ${h.got} calls for ${h.expected}`);
        }
      });
      if (returnMismatch > 0) {
        failures.push(`pubsub: ${returnMismatch} publishes returned a wrong subscriber count`);
      }
      const delivered = consumers.reduce((n, c) => n + c.received, 0);
      const lagged = consumers.reduce((n, c) => n + c.rx.missed, 0);
      return {
        ops: published,
        unit: 'msg',
        counts: { published, delivered, lagged, churned },
        failures,
      };
    },
  };
}
