// Shared helpers of the WorkflowEngine unit tests: engines closed after each test, and
// the code of an expected rejection.
import { afterEach } from 'vitest';
import { isMajraError } from '../../src/core/errors.js';
import { WorkflowEngine, type WorkflowEngineOptions } from '../../src/workflow/engine.js';

/** Registers the cleanup; returns a factory whose engines are closed after each test. */
export function useEngines(): (options?: WorkflowEngineOptions) => WorkflowEngine {
  const engines: WorkflowEngine[] = [];
  afterEach(async () => {
    for (const e of engines.splice(0)) await e.close();
  });
  return (options = {}) => {
    const e = new WorkflowEngine(options);
    engines.push(e);
    return e;
  };
}

/** The MajraError code `promise` (or the call) rejects with; throws if it does not. */
export async function codeOf(promise: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    if (isMajraError(error)) return error.code;
    throw error;
  }
  throw new Error('expected a rejection');
}
