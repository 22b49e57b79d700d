// Named N-way barriers: workers wait until every declared participant arrived; a
// supervisor can release a participant it knows is dead so the others do not hang.
// Run: npm run build && node --import tsx examples/barrier.ts
import { BarrierSet } from 'majra/barrier';

const barriers = new BarrierSet({ maxBarriers: 1_000 });
barriers.create('epoch-7', ['w1', 'w2', 'w3']);

// Three workers reach the end of epoch 7; w3 crashed before arriving.
const waiting = ['w1', 'w2'].map(async (worker) => {
  await barriers.arriveAndWait('epoch-7', worker, { timeoutMs: 5_000 });
  console.log(`${worker} passed the barrier`);
});
console.log('status', JSON.stringify(barriers.status('epoch-7')));

// The supervisor learns w3 is dead and releases it in its place.
const result = barriers.forceRelease('epoch-7', 'w3');
console.log('forced w3:', JSON.stringify(result));
await Promise.all(waiting);

// Once everyone has passed, completing the barrier frees its slot.
console.log('complete', JSON.stringify(barriers.complete('epoch-7')));
await barriers.close();
console.log('barrier example done');
