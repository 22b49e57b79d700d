// BarrierSet cycles: participants arrive with jitter, one arrival per cycle must observe
// the release, every waiter must be woken, and every few cycles a participant "dies" and
// is force-released so the others are not deadlocked.
import { BarrierSet } from '../../src/barrier/barrier-set.js';
import { describe, pause, yieldNow, type SoakContext, type Workload } from '../lib.js';

const PARTICIPANTS = ['p0', 'p1', 'p2', 'p3', 'p4'];

export function startBarrier(ctx: SoakContext): Workload {
  const barriers = new BarrierSet({ maxBarriers: 16 });
  let cycles = 0;
  let forced = 0;

  const cycle = async (n: number): Promise<void> => {
    const name = `cycle-${n}`;
    barriers.create(name, PARTICIPANTS);
    const dead = n % 10 === 9 ? PARTICIPANTS[n % PARTICIPANTS.length] : undefined;
    let releasedSeen = 0;
    const arrivals = PARTICIPANTS.filter((p) => p !== dead).map(async (p, i) => {
      if (i % 2 === 0) await yieldNow();
      else await pause(i % 3);
      // Half the participants use arrive() + wait(), half arriveAndWait().
      if (i % 2 === 0) {
        const result = barriers.arrive(name, p);
        if (result.status === 'released') releasedSeen++;
        else await barriers.wait(name, { timeoutMs: 30_000 });
      } else {
        await barriers.arriveAndWait(name, p, { timeoutMs: 30_000 });
      }
    });
    if (dead !== undefined) {
      await pause(2);
      const result = barriers.forceRelease(name, dead);
      if (result.status === 'released') releasedSeen++;
      forced++;
    }
    await Promise.all(arrivals);
    const status = barriers.status(name);
    if (status?.status !== 'released') ctx.fail(`barrier ${name}: waiters woke before release`);
    const record = barriers.complete(name);
    const expected = PARTICIPANTS.length - (dead === undefined ? 0 : 1);
    if (record?.released !== true || record.participants.length !== expected) {
      ctx.fail(`barrier ${name}: complete() returned ${JSON.stringify(record)}`);
    }
    if (record?.forced !== (dead !== undefined)) ctx.fail(`barrier ${name}: forced flag wrong`);
    // arriveAndWait hides which arrival released; count the visible ones instead.
    if (releasedSeen > 1) ctx.fail(`barrier ${name}: ${releasedSeen} arrivals saw the release`);
    ctx.retain(record);
  };

  const loop = (async () => {
    while (!ctx.signal.aborted) {
      const before = barriers.stats().releases;
      try {
        await cycle(cycles);
      } catch (error) {
        ctx.fail(`barrier cycle-${cycles}: ${describe(error)}`);
      }
      const releases = barriers.stats().releases - before;
      if (releases !== 1) ctx.fail(`barrier cycle-${cycles}: released ${releases} times`);
      cycles++;
    }
  })();

  return {
    name: 'barrier',
    async stop() {
      await loop;
      const stats = barriers.stats();
      const failures: string[] = [];
      if (stats.barriers !== 0 || stats.waiters !== 0) {
        failures.push(`barrier: ${stats.barriers} barriers, ${stats.waiters} waiters left`);
      }
      if (stats.releases !== cycles) {
        failures.push(`barrier: ${stats.releases} releases for ${cycles} cycles`);
      }
      if (stats.forced !== forced) failures.push(`barrier: forced ${stats.forced} != ${forced}`);
      await barriers.close();
      return { ops: cycles, unit: 'cycles', counts: { cycles, forced }, failures };
    },
  };
}
