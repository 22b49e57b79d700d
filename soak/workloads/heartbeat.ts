// HeartbeatTracker with a live fleet and churning nodes that fall silent, go suspect and
// offline, get evicted and re-register. Every transition must start from the state last
// reported, only silent nodes may be evicted, each silent node must be evicted in time,
// and fleetStats() must add up.
import type { NodeStatus } from '../../src/heartbeat/types.js';
import { HeartbeatTracker } from '../../src/heartbeat/tracker.js';
import { describe, pause, type SoakContext, type Workload } from '../lib.js';

const LIVE = 30;
const CHURN = 10;
const SUSPECT_MS = 500;
const OFFLINE_MS = 3000;
const SWEEP_MS = 100;
/** Eviction needs 2 offline sweeps; allow generous slack for a loaded machine. */
const EVICT_WITHIN_MS = OFFLINE_MS + 3 * SWEEP_MS + 5000;

export function startHeartbeat(ctx: SoakContext): Workload {
  const tracker = new HeartbeatTracker({
    suspectAfterMs: SUSPECT_MS,
    offlineAfterMs: OFFLINE_MS,
    eviction: { offlineSweeps: 2 },
    maxNodes: 1000,
    onError: (error) => ctx.fail(`heartbeat: ${describe(error)}`),
  });
  const status = new Map<string, NodeStatus>();
  const silentSince = new Map<string, number>();
  let transitions = 0;
  let evictions = 0;
  let beats = 0;
  let liveNotOnline = 0;

  tracker.on('transition', (t) => {
    transitions++;
    if (status.get(t.nodeId) !== t.from) {
      ctx.fail(
        `heartbeat ${t.nodeId}: transition from ${t.from}, last known ${status.get(t.nodeId)}`,
      );
    }
    status.set(t.nodeId, t.to);
    if (t.to !== 'online' && !silentSince.has(t.nodeId)) liveNotOnline++;
  });
  tracker.on('evicted', (nodeId) => {
    evictions++;
    if (!silentSince.has(nodeId)) ctx.fail(`heartbeat: live node ${nodeId} evicted`);
    silentSince.delete(nodeId);
    status.delete(nodeId);
  });
  const register = (id: string, n: number): void => {
    tracker.register(id, {
      metadata: { zone: n % 2 === 0 ? 'eu' : 'us' },
      gpus: [{ utilizationPct: n % 100, memoryUsedMb: 1000, memoryTotalMb: 24_000 }],
    });
    status.set(id, 'online');
  };
  const live = Array.from({ length: LIVE }, (_, i) => `live-${i}`);
  const churn = Array.from({ length: CHURN }, (_, i) => `churn-${i}`);
  [...live, ...churn].forEach((id, i) => register(id, i));
  const stopSweeper = tracker.startSweeper(SWEEP_MS);

  const beatLoop = (async () => {
    let round = 0;
    while (!ctx.signal.aborted) {
      round++;
      for (const id of live) {
        if (
          !tracker.beat(id, {
            gpus: [{ utilizationPct: round % 100, memoryUsedMb: 2000, memoryTotalMb: 24_000 }],
          })
        ) {
          ctx.fail(`heartbeat: beat of live node ${id} refused`);
        }
        beats++;
      }
      // Each churn node beats for a while, falls silent until evicted, then re-registers.
      churn.forEach((id, i) => {
        if (silentSince.has(id)) {
          if (!status.has(id)) return; // evicted: register again below
          const silentFor = performance.now() - silentSince.get(id)!;
          if (silentFor > EVICT_WITHIN_MS) {
            ctx.fail(`heartbeat: silent node ${id} not evicted after ${Math.round(silentFor)} ms`);
            silentSince.delete(id);
          }
          return;
        }
        if (!status.has(id)) {
          register(id, round);
          return;
        }
        if ((round + i * 7) % 80 === 0) silentSince.set(id, performance.now());
        else if (tracker.beat(id)) beats++;
      });
      const stats = tracker.fleetStats();
      if (
        stats.online + stats.suspect + stats.offline !== stats.totalNodes ||
        stats.totalNodes !== status.size
      ) {
        ctx.fail(`heartbeat: fleetStats ${JSON.stringify(stats)} with ${status.size} nodes known`);
      }
      ctx.retain(stats);
      await pause(50, ctx.signal);
    }
  })();

  return {
    name: 'heartbeat',
    async stop() {
      await beatLoop;
      stopSweeper();
      await tracker.close();
      return {
        ops: beats,
        unit: 'beats',
        counts: { beats, transitions, evictions, liveNotOnline },
        failures: [],
      };
    },
  };
}
