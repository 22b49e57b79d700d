import { invalid } from '../core/validate.js';
import type { GpuTelemetry } from './types.js';

/** Most GPU entries accepted per node. */
export const MAX_GPUS_PER_NODE = 1024;

function field(name: string, value: unknown, max = Number.MAX_VALUE): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max) {
    invalid(
      name,
      max === Number.MAX_VALUE
        ? 'a finite number of at least 0'
        : `a finite number from 0 to ${max}`,
      value,
      'ERR_HEARTBEAT_INVALID_TELEMETRY',
    );
  }
  return value;
}

/**
 * Validates a GPU list and returns a frozen copy (so callers mutating their input, or a
 * snapshot, never change the tracker).
 *
 * @internal
 */
export function validateGpus(gpus: unknown, name = 'gpus'): readonly GpuTelemetry[] {
  if (!Array.isArray(gpus) || gpus.length > MAX_GPUS_PER_NODE) {
    invalid(
      name,
      `an array of at most ${MAX_GPUS_PER_NODE} GPU entries`,
      gpus,
      'ERR_HEARTBEAT_INVALID_TELEMETRY',
    );
  }
  const out: GpuTelemetry[] = [];
  for (let i = 0; i < gpus.length; i++) {
    const gpu: unknown = gpus[i];
    if (typeof gpu !== 'object' || gpu === null) {
      invalid(`${name}[${i}]`, 'a GPU telemetry object', gpu, 'ERR_HEARTBEAT_INVALID_TELEMETRY');
    }
    const g = gpu as Record<string, unknown>;
    const entry: GpuTelemetry = {
      utilizationPct: field(`${name}[${i}].utilizationPct`, g['utilizationPct'], 100),
      memoryUsedMb: field(`${name}[${i}].memoryUsedMb`, g['memoryUsedMb']),
      memoryTotalMb: field(`${name}[${i}].memoryTotalMb`, g['memoryTotalMb']),
    };
    const temperature = g['temperatureC'];
    if (temperature !== undefined) {
      if (typeof temperature !== 'number' || !Number.isFinite(temperature)) {
        invalid(
          `${name}[${i}].temperatureC`,
          'a finite number',
          temperature,
          'ERR_HEARTBEAT_INVALID_TELEMETRY',
        );
      }
      out.push(Object.freeze({ ...entry, temperatureC: temperature }));
    } else {
      out.push(Object.freeze(entry));
    }
  }
  return Object.freeze(out);
}
