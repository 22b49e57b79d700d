// Heartbeat tracker: the Rust project's bench ids (spec/scheduling.md §7). No Node peer
// offers a node-health FSM (ecosystem-peers.md §1.7), so these rows have no baseline.
//
//   npx tsx -e "import('./bench/heartbeat.bench.ts').then(m => m.run({ quick: false })).then(r => console.log(JSON.stringify(r, null, 2)))"
import { HeartbeatTracker } from '../src/heartbeat/tracker.js';
import { measure, type BenchOptions, type BenchReport } from './lib.js';

export async function run(options: BenchOptions): Promise<BenchReport> {
  const ids = Array.from({ length: 100 }, (_, i) => `node-${i}`);
  const gpu = { utilizationPct: 50, memoryUsedMb: 4_000, memoryTotalMb: 24_000 };

  const beats = new HeartbeatTracker();
  for (const id of ids) beats.register(id);
  const telemetry = new HeartbeatTracker();
  for (const id of ids.slice(0, 50)) telemetry.register(id);
  const fleet = new HeartbeatTracker();
  for (const id of ids) fleet.register(id, { gpus: [gpu] });
  let sink = 0;

  const results = await measure(
    {
      heartbeat_100_nodes_beat_sweep: () => {
        for (const id of ids) beats.beat(id);
        sink += beats.sweep().length;
      },
      heartbeat_telemetry_update_50: () => {
        for (let i = 0; i < 50; i++) telemetry.beat(ids[i]!, { gpus: [gpu] });
      },
      heartbeat_fleet_stats_100: () => {
        sink += fleet.fleetStats().totalGpus;
      },
    },
    options,
  );
  if (sink < 0) throw new Error('unreachable');
  const hz = (name: string) => results.get(name) ?? { hz: 0, spread: 0 };
  return {
    area: 'heartbeat',
    rows: [
      {
        name: 'heartbeat_100_nodes_beat_sweep (100 beats + 1 sweep)',
        unit: 'ops/s',
        majra: hz('heartbeat_100_nodes_beat_sweep').hz,
        spread: hz('heartbeat_100_nodes_beat_sweep').spread,
      },
      {
        name: 'heartbeat_telemetry_update_50 (50 telemetry beats)',
        unit: 'ops/s',
        majra: hz('heartbeat_telemetry_update_50').hz,
        spread: hz('heartbeat_telemetry_update_50').spread,
      },
      {
        name: 'heartbeat_fleet_stats_100 (100 nodes × 1 GPU)',
        unit: 'ops/s',
        majra: hz('heartbeat_fleet_stats_100').hz,
        spread: hz('heartbeat_fleet_stats_100').spread,
      },
    ],
    notes: ['Same workloads as the Rust benches of the same ids, which publish no figures.'],
  };
}
