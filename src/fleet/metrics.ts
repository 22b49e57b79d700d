import { defineMetric } from '../core/metrics.js';

/** Jobs submitted to the fleet. */
export const fleetSubmitted = defineMetric({
  name: 'majra_fleet_jobs_submitted_total',
  type: 'counter',
  help: 'Jobs submitted to a fleet queue.',
});

/** Jobs moved between nodes, by reason. */
export const fleetMoved = defineMetric({
  name: 'majra_fleet_jobs_moved_total',
  type: 'counter',
  help: 'Queued jobs moved between fleet nodes, by reason (stolen, redistributed).',
  labelNames: ['reason'],
});

/** Queued jobs the fleet tracks. */
export const fleetTracked = defineMetric({
  name: 'majra_fleet_tracked_jobs',
  type: 'gauge',
  help: 'Queued jobs tracked by a fleet queue.',
});
