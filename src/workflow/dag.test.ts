import { describe, expect, it } from 'vitest';
import { isMajraError } from '../core/errors.js';
import { topologicalTiers, validateDefinition, type WorkflowDefinition } from './dag.js';

function code(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (error) {
    if (isMajraError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected a throw');
}

const def = (steps: WorkflowDefinition['steps']): WorkflowDefinition => ({ id: 'wf', steps });

describe('topologicalTiers', () => {
  it('sorts a linear chain, a diamond and independent steps', () => {
    expect(
      topologicalTiers(
        def([{ id: 'a' }, { id: 'b', dependsOn: ['a'] }, { id: 'c', dependsOn: ['b'] }]),
      ),
    ).toEqual([['a'], ['b'], ['c']]);
    expect(
      topologicalTiers(
        def([
          { id: 'a' },
          { id: 'b', dependsOn: ['a'] },
          { id: 'c', dependsOn: ['a'] },
          { id: 'd', dependsOn: ['b', 'c'] },
        ]),
      ),
    ).toEqual([['a'], ['b', 'c'], ['d']]);
    expect(topologicalTiers(def([{ id: 'a' }, { id: 'b' }, { id: 'c' }]))).toEqual([
      ['a', 'b', 'c'],
    ]);
  });

  it('places an `any` join after its earliest dependency when both sit in one tier', () => {
    expect(
      topologicalTiers(
        def([
          { id: 'a' },
          { id: 'b', dependsOn: ['a'] },
          { id: 'c', dependsOn: ['a'] },
          { id: 'd', dependsOn: ['b', 'c'], trigger: 'any' },
        ]),
      ),
    ).toEqual([['a'], ['b', 'c'], ['d']]);
  });

  it('regression: an `any` step whose dependencies sit in different tiers is no cycle', () => {
    // The Rust reference emits d twice here and reports a false cycle.
    const tiers = topologicalTiers(
      def([
        { id: 'a' },
        { id: 'b', dependsOn: ['a'] },
        { id: 'd', dependsOn: ['a', 'b'], trigger: 'any' },
      ]),
    );
    expect(tiers).toEqual([['a'], ['b', 'd']]);
    expect(tiers.flat().sort()).toEqual(['a', 'b', 'd']);
  });

  it('places an `all` step after its latest dependency', () => {
    expect(
      topologicalTiers(
        def([{ id: 'a' }, { id: 'b', dependsOn: ['a'] }, { id: 'd', dependsOn: ['a', 'b'] }]),
      ),
    ).toEqual([['a'], ['b'], ['d']]);
  });

  it('leaves fallback steps out of the tiers', () => {
    expect(
      topologicalTiers(
        def([
          { id: 'a', onError: { fallback: 'fb' } },
          { id: 'fb' },
          { id: 'b', dependsOn: ['a'] },
        ]),
      ),
    ).toEqual([['a'], ['b']]);
  });

  it('handles a 10 000-step chain', () => {
    const steps = Array.from({ length: 10_000 }, (_, i) => ({
      id: `s${i}`,
      ...(i === 0 ? {} : { dependsOn: [`s${i - 1}`] }),
    }));
    const tiers = topologicalTiers(def(steps));
    expect(tiers).toHaveLength(10_000);
    expect(tiers[9_999]).toEqual(['s9999']);
  });
});

describe('validateDefinition', () => {
  it('accepts a valid definition, ignores duplicate dependency entries, and fills defaults', () => {
    const wf = validateDefinition(def([{ id: 'a' }, { id: 'b', dependsOn: ['a', 'a'] }]));
    expect(wf.steps.get('b')).toMatchObject({
      dependsOn: ['a'],
      trigger: 'all',
      onError: 'fail',
      timeoutMs: undefined,
      isFallback: false,
    });
    expect(wf.steps.get('b')?.retry.maxAttempts).toBe(1);
    expect(wf.steps.get('a')?.dependents).toEqual(['b']);
  });

  it('names the cycle path, in execution order', () => {
    const e = code(() =>
      validateDefinition(
        def([
          { id: 'start' },
          { id: 'a', dependsOn: ['start', 'c'] },
          { id: 'b', dependsOn: ['a'] },
          { id: 'c', dependsOn: ['b'] },
        ]),
      ),
    );
    expect(e.code).toBe('ERR_WORKFLOW_CYCLE');
    expect(e.message).toContain('a -> b -> c -> a');
  });

  it('treats a self-dependency and a 2-cycle as cycles', () => {
    expect(code(() => validateDefinition(def([{ id: 'a', dependsOn: ['a'] }]))).message).toContain(
      'a -> a',
    );
    const two = code(() =>
      validateDefinition(
        def([
          { id: 'a', dependsOn: ['b'] },
          { id: 'b', dependsOn: ['a'] },
        ]),
      ),
    );
    expect(two.code).toBe('ERR_WORKFLOW_CYCLE');
    expect(two.message).toMatch(/a -> b -> a|b -> a -> b/);
  });

  it.each([
    ['no steps', { id: 'wf', steps: [] }, /no steps/],
    ['duplicate ids', def([{ id: 'a' }, { id: 'a' }]), /duplicate step id 'a'/],
    ['unknown dependency', def([{ id: 'a', dependsOn: ['zz'] }]), /depends on unknown step 'zz'/],
    [
      'unknown fallback',
      def([{ id: 'a', onError: { fallback: 'zz' } }]),
      /fallback to unknown step "zz"/,
    ],
    ['self fallback', def([{ id: 'a', onError: { fallback: 'a' } }]), /names itself/],
    [
      'fallback with dependencies',
      def([
        { id: 'a', onError: { fallback: 'f' } },
        { id: 'f', dependsOn: ['a'] },
      ]),
      /must not have dependencies/,
    ],
    [
      'depending on a fallback step',
      def([{ id: 'a', onError: { fallback: 'f' } }, { id: 'f' }, { id: 'b', dependsOn: ['f'] }]),
      /a fallback step/,
    ],
    [
      'fallback chain',
      def([
        { id: 'a', onError: { fallback: 'f' } },
        { id: 'f', onError: { fallback: 'g' } },
        { id: 'g' },
      ]),
      /cannot have a fallback itself/,
    ],
    ['empty id', def([{ id: '' }]), /steps\[0\]\.id/],
    ['bad trigger', def([{ id: 'a', trigger: 'some' as never }]), /trigger/],
    ['bad onError', def([{ id: 'a', onError: 'retry' as never }]), /onError/],
    ['bad onError object', def([{ id: 'a', onError: { fallback: 3 } as never }]), /onError/],
    ['zero attempts', def([{ id: 'a', retry: { maxAttempts: 0 } }]), /maxAttempts/],
    ['too many attempts', def([{ id: 'a', retry: { maxAttempts: 101 } }]), /maxAttempts/],
    ['negative delay', def([{ id: 'a', retry: { delayMs: -1 } }]), /delayMs/],
    ['NaN delay', def([{ id: 'a', retry: { delayMs: Number.NaN } }]), /delayMs/],
    ['cap below delay', def([{ id: 'a', retry: { delayMs: 100, maxDelayMs: 10 } }]), /maxDelayMs/],
    ['jitter above 1', def([{ id: 'a', retry: { jitter: 2 } }]), /jitter/],
    ['bad strategy', def([{ id: 'a', retry: { backoff: 'random' as never } }]), /backoff/],
    ['zero timeout', def([{ id: 'a', timeoutMs: 0 }]), /timeoutMs/],
    ['dependsOn not an array', def([{ id: 'a', dependsOn: 'b' as never }]), /dependsOn/],
    ['missing steps', { id: 'wf' } as never, /definition\.steps/],
    ['not an object', null as never, /definition/],
  ])('rejects %s', (_name, definition, message) => {
    const e = code(() => validateDefinition(definition));
    expect(e.code).toBe('ERR_WORKFLOW_INVALID_DEFINITION');
    expect(e.message).toMatch(message);
  });

  it('gives the same hash to the same shape and a different one to another shape', () => {
    const a = validateDefinition(def([{ id: 'a' }, { id: 'b', dependsOn: ['a'] }]));
    const same = validateDefinition(
      def([
        { id: 'a', retry: { maxAttempts: 3 } },
        { id: 'b', dependsOn: ['a'] },
      ]),
    );
    const other = validateDefinition(def([{ id: 'a' }, { id: 'b' }]));
    expect(same.hash).toBe(a.hash);
    expect(other.hash).not.toBe(a.hash);
  });
});
