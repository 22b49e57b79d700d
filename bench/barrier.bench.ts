// Barriers: the Rust project's bench ids (spec/scheduling.md §7). No Node peer offers an
// N-way barrier (ecosystem-peers.md §1.9), so these rows have no baseline.
//
//   npx tsx -e "import('./bench/barrier.bench.ts').then(m => m.run({ quick: false })).then(r => console.log(JSON.stringify(r, null, 2)))"
import { BarrierSet } from '../src/barrier/barrier-set.js';
import { measure, type BenchOptions, type BenchReport } from './lib.js';

export async function run(options: BenchOptions): Promise<BenchReport> {
  const ten = Array.from({ length: 10 }, (_, i) => `p${i}`);
  const four = ['a', 'b', 'c', 'd'];
  const barriers = new BarrierSet();

  const results = await measure(
    {
      barrier_arrive_release_10: () => {
        barriers.create('ten', ten);
        for (const p of ten) barriers.arrive('ten', p);
        barriers.complete('ten');
      },
      barrier_create_arrive_complete_cycle: () => {
        for (let i = 0; i < 20; i++) {
          barriers.create('cycle', four);
          for (const p of four) barriers.arrive('cycle', p);
          barriers.complete('cycle');
        }
      },
    },
    options,
  );
  const row = (name: string) => results.get(name) ?? { hz: 0, spread: 0 };
  return {
    area: 'barrier',
    rows: [
      {
        name: 'barrier_arrive_release_10 (create, 10 arrivals, complete)',
        unit: 'ops/s',
        majra: row('barrier_arrive_release_10').hz,
        spread: row('barrier_arrive_release_10').spread,
      },
      {
        name: 'barrier_create_arrive_complete_cycle (20 × 4-party cycles)',
        unit: 'ops/s',
        majra: row('barrier_create_arrive_complete_cycle').hz,
        spread: row('barrier_create_arrive_complete_cycle').spread,
      },
    ],
    notes: ['Same workloads as the Rust benches of the same ids, which publish no figures.'],
  };
}
