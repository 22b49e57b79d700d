// The in-memory HeartbeatTracker against the shared conformance suite, on a manual clock
// and on real time (what a backend whose time cannot be faked looks like).
import type { Closeable } from '../../src/core/lifecycle.js';
import type { HeartbeatTrackerContract } from '../../src/heartbeat/types.js';
import { HeartbeatTracker } from '../../src/heartbeat/tracker.js';
import { describeHeartbeatTracker } from './heartbeat.suite.js';

async function closeAll(trackers: readonly HeartbeatTrackerContract[]): Promise<void> {
  for (const tracker of trackers) await (tracker as unknown as Closeable).close();
}

describeHeartbeatTracker('memory', (spec, clock) => new HeartbeatTracker({ ...spec, clock }), {
  afterEach: closeAll,
});

describeHeartbeatTracker('memory, real time', (spec) => new HeartbeatTracker(spec), {
  timeControl: false,
  afterEach: closeAll,
});
