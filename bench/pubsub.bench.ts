// Pub/sub throughput and memory, majra against mqemitter, eventemitter2 and node's
// EventEmitter, all measured in this one run. Publish-side figures use synchronous
// handlers (`on`) on every library; the receiver row measures publish + async consume.
import { EventEmitter } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import eventemitter2 from 'eventemitter2';
import mqemitter from 'mqemitter';
import { DirectChannel, TypedPubSub } from '../src/pubsub/index.js';
import {
  measure,
  median,
  spread,
  type BenchOptions,
  type BenchReport,
  type BenchRow,
} from './lib.js';

interface Payload {
  readonly n: number;
}
const payload: Payload = { n: 1 };
let sink = 0;
const handler = (): void => {
  sink++;
};
const mqHandler = (_message: unknown, done: () => void): void => {
  sink++;
  done();
};
const noop = (): void => undefined;

function wildcardPatterns(count: number): string[] {
  // Every pattern has the shape w<i>/+/x: only w0/... matches the published topic.
  return Array.from({ length: count }, (_, i) => `w${i}/+/x`);
}

function typedWithWildcards(count: number, maxCachedTopics?: number): TypedPubSub<Payload> {
  const hub = new TypedPubSub<Payload>(maxCachedTopics === undefined ? {} : { maxCachedTopics });
  for (const p of wildcardPatterns(count)) hub.on(p, handler);
  return hub;
}

function mqWithWildcards(count: number): ReturnType<typeof mqemitter> {
  const mq = mqemitter();
  for (const p of wildcardPatterns(count)) mq.on(p, mqHandler);
  return mq;
}

function collectGarbage(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  return () => {
    gc();
    gc();
  };
}

/** Heap growth in MB for `subscribe(i)` called 100k times; the object is kept alive. */
function heapFor(build: () => unknown, gc: () => void): number {
  gc();
  const before = process.memoryUsage().heapUsed;
  const kept = build();
  gc();
  const after = process.memoryUsage().heapUsed;
  if (kept === undefined) throw new Error('unreachable');
  return (after - before) / 1024 / 1024;
}

export async function run(options: BenchOptions): Promise<BenchReport> {
  // --- exact topic, one handler ---------------------------------------------------------
  const typedExact = new TypedPubSub<Payload>();
  typedExact.on('sensors/kitchen/temp', handler);
  const ee2 = new eventemitter2.EventEmitter2();
  ee2.on('sensors/kitchen/temp', handler);
  const mqExact = mqemitter();
  mqExact.on('sensors/kitchen/temp', mqHandler);
  const mqMessage = { topic: 'sensors/kitchen/temp', payload };

  // --- wildcard subscriptions, one matching ----------------------------------------------
  const typed10 = typedWithWildcards(10);
  const typed100 = typedWithWildcards(100);
  const typed10k = typedWithWildcards(10_000);
  const typed10NoCache = typedWithWildcards(10, 0);
  const typed10kNoCache = typedWithWildcards(10_000, 0);
  const mq100 = mqWithWildcards(100);
  const mqWildMessage = { topic: 'w0/y/x', payload };

  // --- fan-out to 10 handlers --------------------------------------------------------------
  const direct = new DirectChannel<Payload>(256);
  const node = new EventEmitter();
  for (let i = 0; i < 10; i++) {
    direct.on(handler);
    node.on('tick', handler);
  }

  // --- receiver: publish then consume through async iteration --------------------------------
  const rxHub = new TypedPubSub<Payload>({ capacity: 1000 });
  const rx = rxHub.subscribe('jobs/+');
  const rxIterator = rx[Symbol.asyncIterator]();

  // Each task runs OPS operations per call: one publish is shorter than the timer's
  // resolution, so single-call samples would be quantised. Figures are per operation.
  const OPS = 1000;
  const times = (fn: () => unknown) => (): void => {
    for (let i = 0; i < OPS; i++) fn();
  };
  const tasks: Record<string, () => unknown> = {
    'typed exact': times(() => typedExact.publish('sensors/kitchen/temp', payload)),
    'eventemitter2 exact': times(() => ee2.emit('sensors/kitchen/temp', payload)),
    'mqemitter exact': times(() => mqExact.emit(mqMessage, noop)),
    'typed 100 wildcard': times(() => typed100.publish('w0/y/x', payload)),
    'mqemitter 100 wildcard': times(() => mq100.emit(mqWildMessage, noop)),
    'typed 10 wildcard': times(() => typed10.publish('w0/y/x', payload)),
    'typed 10k wildcard': times(() => typed10k.publish('w0/y/x', payload)),
    'typed 10 wildcard no cache': times(() => typed10NoCache.publish('w0/y/x', payload)),
    'typed 10k wildcard no cache': times(() => typed10kNoCache.publish('w0/y/x', payload)),
    'direct 10 handlers': times(() => direct.publish(payload)),
    'node EventEmitter 10 listeners': times(() => node.emit('tick', payload)),
    'receiver publish+consume': async () => {
      for (let i = 0; i < OPS; i++) rxHub.publish('jobs/a', payload);
      for (let i = 0; i < OPS; i++) await rxIterator.next();
    },
  };
  // tinybench runs tasks one after another; on a shared machine the load changes between
  // them. Several short rounds over all tasks, with the median per task, keep each
  // comparison's two sides measured under the same conditions.
  const rounds = options.quick ? 1 : 7;
  const samples = new Map<string, number[]>();
  for (let r = 0; r < rounds; r++) {
    const round = await measure(tasks, { ...options, timeMs: 150 });
    for (const [name, value] of round) samples.set(name, [...(samples.get(name) ?? []), value.hz]);
  }
  const best = (name: string): number => OPS * Math.max(...(samples.get(name) ?? [0]));
  const fmtM = (n: number): string => `${(n / 1e6).toFixed(1)}M`;
  const results = new Map<string, { hz: number; spread: number }>();
  for (const [name, values] of samples) {
    results.set(name, { hz: median(values), spread: spread(values) });
  }
  const hz = (name: string): { hz: number; spread: number } => {
    const r = results.get(name);
    if (r === undefined) throw new Error(`missing ${name}`);
    return { hz: r.hz * OPS, spread: r.spread };
  };
  const row = (
    name: string,
    majra: string,
    peerName: string,
    peer: string,
    targetRatio: number,
    target: string,
  ): BenchRow => ({
    name,
    unit: 'msg/s',
    majra: hz(majra).hz,
    spread: hz(majra).spread,
    peer: { name: peerName, value: hz(peer).hz, spread: hz(peer).spread },
    targetRatio,
    target,
  });

  const rows: BenchRow[] = [
    row(
      'TypedPubSub exact topic, 1 handler',
      'typed exact',
      'eventemitter2',
      'eventemitter2 exact',
      1.2,
      '>= 1.2x eventemitter2',
    ),
    row(
      'TypedPubSub exact topic, 1 handler',
      'typed exact',
      'mqemitter',
      'mqemitter exact',
      1.8,
      '>= 1.8x mqemitter',
    ),
    row(
      '100 wildcard subscriptions, 1 matching',
      'typed 100 wildcard',
      'mqemitter',
      'mqemitter 100 wildcard',
      2,
      '>= 2x mqemitter',
    ),
    row(
      '10,000 vs 10 wildcard subscriptions (match cache on)',
      'typed 10k wildcard',
      'majra with 10',
      'typed 10 wildcard',
      1 / 1.5,
      'cost <= 1.5x the cost with 10',
    ),
    row(
      '10,000 vs 10 wildcard subscriptions (match cache off: trie walk)',
      'typed 10k wildcard no cache',
      'majra with 10',
      'typed 10 wildcard no cache',
      1 / 1.5,
      'cost <= 1.5x the cost with 10',
    ),
    row(
      'DirectChannel, 10 handlers',
      'direct 10 handlers',
      'node EventEmitter',
      'node EventEmitter 10 listeners',
      1,
      '>= 1x node EventEmitter',
    ),
    {
      name: 'Receiver end to end (publish + for-await consume)',
      unit: 'msg/s',
      majra: hz('receiver publish+consume').hz,
      spread: hz('receiver publish+consume').spread,
    },
  ];

  // --- memory, 100k topic subscriptions ------------------------------------------------------
  const gc = collectGarbage();
  const count = options.quick ? 1000 : 100_000;
  const memMajra = heapFor(() => {
    const hub = new TypedPubSub<Payload>();
    for (let i = 0; i < count; i++) hub.on(`topic/${i}`, handler);
    return hub;
  }, gc);
  const memMajraHandles = heapFor(() => {
    // The same, keeping every unsubscribe function (the compact form's only per-subscription object).
    const hub = new TypedPubSub<Payload>();
    const handles: unknown[] = [];
    for (let i = 0; i < count; i++) handles.push(hub.on(`topic/${i}`, handler));
    return [hub, handles];
  }, gc);
  const memEe2 = heapFor(() => {
    const e = new eventemitter2.EventEmitter2();
    e.setMaxListeners(0);
    for (let i = 0; i < count; i++) e.on(`topic/${i}`, handler);
    return e;
  }, gc);
  const memEe2Handles = heapFor(() => {
    // With `objectify`, `on()` returns a listener handle with `off()`: one object per
    // subscription, like majra's unsubscribe function.
    const e = new eventemitter2.EventEmitter2();
    e.setMaxListeners(0);
    const handles: unknown[] = [];
    for (let i = 0; i < count; i++) handles.push(e.on(`topic/${i}`, handler, { objectify: true }));
    return [e, handles];
  }, gc);
  const memMq = heapFor(() => {
    const e = mqemitter();
    for (let i = 0; i < count; i++) e.on(`topic/${i}`, mqHandler);
    return e;
  }, gc);
  rows.push(
    {
      name: `Heap for ${count} topic subscriptions`,
      unit: 'MB',
      majra: memMajra,
      peer: { name: 'eventemitter2', value: memEe2 },
      targetRatio: 1,
      target: "<= eventemitter2's",
      lowerIsBetter: true,
    },
    {
      name: `Heap for ${count} topic subscriptions, every unsubscribe handle kept`,
      unit: 'MB',
      majra: memMajraHandles,
      peer: { name: 'eventemitter2 (objectify: a handle per subscription)', value: memEe2Handles },
      lowerIsBetter: true,
    },
    {
      name: `Heap for ${count} topic subscriptions`,
      unit: 'MB',
      majra: memMajra,
      peer: { name: 'mqemitter', value: memMq },
      lowerIsBetter: true,
    },
  );
  rx.close();
  return {
    area: 'pubsub',
    rows,
    notes: [
      `sink ${sink > 0 ? 'used' : 'unused'}; handlers are synchronous on every library.`,
      `Least-contended round (max over rounds), exact topic: majra ${fmtM(best('typed exact'))} vs eventemitter2 ${fmtM(best('eventemitter2 exact'))} msg/s; the 2-core machine was shared with other jobs, so medians carry the spread shown.`,
      `Each figure is the median of ${rounds} rounds of 150 ms per task (± is the spread across rounds); every task performs ${OPS} operations per call.`,
      'The 10k-vs-10 row with the cache on measures repeated topics (cache hits); the row with the cache off measures the trie walk on every publish.',
    ],
  };
}
