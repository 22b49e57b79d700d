/**
 * Workflow definitions: their shape, validation (before anything runs) and the tier view
 * of the dependency graph.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '../core/errors.js';
import { describeValue, integerInRange, invalid, nonEmptyString } from '../core/validate.js';
import { Priority, parsePriority } from '../queue/priority.js';
import { parseResourceReq } from '../queue/resource-ledger.js';
import type { ResourceReq } from '../queue/types.js';
import { resolveRetryPolicy, type ResolvedRetryPolicy, type RetryPolicy } from './retry.js';

/**
 * When a step with dependencies may start: `all` (default) once every dependency has
 * finished, whatever its outcome; `any` as soon as one dependency has completed. An
 * `any` step whose dependencies all finished without completing is skipped.
 */
export type TriggerMode = 'all' | 'any';

/**
 * What happens when a step has used all its attempts:
 * - `fail` (default): the run fails; running steps are aborted.
 * - `continue`: the step is recorded `failed` and the run goes on.
 * - `skip`: the step is recorded `skipped` and the run goes on.
 * - `{ fallback: id }`: the executor of step `id` runs in its place and its result
 *   becomes this step's result. Step `id` is then a *fallback step*: it never runs on
 *   its own, has no dependencies, and its own `onError` decides what its failure means.
 */
export type ErrorPolicy =
  | 'fail'
  | 'continue'
  | 'skip'
  | {
      /** Id of the step of the same definition that runs in place of the failed one. */
      readonly fallback: string;
    };

/** One step of a workflow. */
export interface WorkflowStepDefinition {
  /** Unique within the definition; 1..256 characters. */
  readonly id: string;
  /** Ids of the steps this one waits for. Duplicates are ignored. */
  readonly dependsOn?: readonly string[];
  /** Join rule over `dependsOn`; default `all`. */
  readonly trigger?: TriggerMode;
  /** Attempts and backoff; default one attempt. */
  readonly retry?: RetryPolicy;
  /** Per-attempt time limit in ms; the attempt's signal aborts when it passes. */
  readonly timeoutMs?: number;
  /** Policy once attempts are exhausted; default `fail`. */
  readonly onError?: ErrorPolicy;
  /**
   * What each attempt needs while it runs, when the engine has a `queue`: the attempt
   * waits until the queue's `capacity` can hold it. Shape: `{ gpuCount, vramMb }`.
   */
  readonly resources?: ResourceReq;
  /** Queue priority of the step's attempts (0..4, default Normal = 2), when the engine has a `queue`. */
  readonly priority?: Priority;
}

/** A workflow: a directed acyclic graph of steps. */
export interface WorkflowDefinition {
  /** Unique per engine; 1..256 characters. */
  readonly id: string;
  /** Steps, at least one, at most {@link MAX_STEPS}. */
  readonly steps: readonly WorkflowStepDefinition[];
}

/** Most steps a definition may have. */
export const MAX_STEPS = 10_000;
/** Longest id of a workflow or step. */
export const MAX_ID_LENGTH = 256;
/** Longest per-attempt timeout (one day). */
export const MAX_STEP_TIMEOUT_MS = 86_400_000;

/** A checked step with defaults filled in. */
export interface ResolvedStep {
  /** The step id. */
  readonly id: string;
  /** Position in the definition. */
  readonly index: number;
  /** Dependencies, duplicates removed. */
  readonly dependsOn: readonly string[];
  /** `all` or `any` (default `all`). */
  readonly trigger: TriggerMode;
  /** Retry policy with defaults filled in. */
  readonly retry: ResolvedRetryPolicy;
  /** Per-attempt timeout, or undefined for none. */
  readonly timeoutMs: number | undefined;
  /** What happens once attempts are used up (default `fail`). */
  readonly onError: ErrorPolicy;
  /** Resources each attempt holds while admitted through the engine's queue. */
  readonly resources: ResourceReq | undefined;
  /** Admission priority in the engine's queue (default Normal). */
  readonly priority: Priority;
  /** True when some step names this one as its fallback (it never runs on its own). */
  readonly isFallback: boolean;
  /** Steps that depend on this one, in definition order. */
  readonly dependents: readonly string[];
}

/** A validated definition, ready to run. */
export interface ValidatedWorkflow {
  /** The workflow id. */
  readonly id: string;
  /** Every step by id, in definition order. */
  readonly steps: ReadonlyMap<string, ResolvedStep>;
  /** Waves of steps that can start together, see {@link topologicalTiers}. */
  readonly tiers: readonly (readonly string[])[];
  /** Fingerprint of the graph's shape, stored with each run and checked on resume. */
  readonly hash: string;
}

function fail(message: string, code: 'ERR_WORKFLOW_INVALID_DEFINITION' | 'ERR_WORKFLOW_CYCLE') {
  return new InvalidArgumentError(`workflow validation: ${message}`, { code });
}

function checkStep(raw: unknown, index: number): Omit<ResolvedStep, 'isFallback' | 'dependents'> {
  const where = `steps[${index}]`;
  const code = 'ERR_WORKFLOW_INVALID_DEFINITION';
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    invalid(where, 'a step object', raw, code);
  }
  const step = raw as WorkflowStepDefinition;
  const id = nonEmptyString(`${where}.id`, step.id, MAX_ID_LENGTH, code);
  let dependsOn: string[] = [];
  if (step.dependsOn !== undefined) {
    if (!Array.isArray(step.dependsOn)) {
      invalid(`${where}.dependsOn`, 'an array of step ids', step.dependsOn, code);
    }
    dependsOn = [
      ...new Set(
        step.dependsOn.map((d, i) =>
          nonEmptyString(`${where}.dependsOn[${i}]`, d, MAX_ID_LENGTH, code),
        ),
      ),
    ];
  }
  const trigger: unknown = step.trigger ?? 'all';
  if (trigger !== 'all' && trigger !== 'any') {
    invalid(`${where}.trigger`, "'all' or 'any'", trigger, code);
  }
  const retry = resolveRetryPolicy(step.retry, `${where}.retry`);
  const timeoutMs =
    step.timeoutMs === undefined
      ? undefined
      : integerInRange(`${where}.timeoutMs`, step.timeoutMs, 1, MAX_STEP_TIMEOUT_MS, code);
  const onError = step.onError ?? 'fail';
  if (typeof onError === 'string') {
    if (!['fail', 'continue', 'skip'].includes(onError)) {
      invalid(`${where}.onError`, "'fail', 'continue', 'skip' or { fallback: id }", onError, code);
    }
  } else if (
    typeof onError !== 'object' ||
    (onError as unknown) === null ||
    typeof onError.fallback !== 'string'
  ) {
    invalid(`${where}.onError`, "'fail', 'continue', 'skip' or { fallback: id }", onError, code);
  }
  let resources: ResourceReq | undefined;
  let priority: Priority = Priority.Normal;
  try {
    if (step.resources !== undefined)
      resources = parseResourceReq(step.resources, `${where}.resources`);
    if (step.priority !== undefined) priority = parsePriority(step.priority);
  } catch (error) {
    throw new InvalidArgumentError(`workflow validation: ${(error as Error).message}`, {
      code,
      cause: error,
    });
  }
  return { id, index, dependsOn, trigger, retry, timeoutMs, onError, resources, priority };
}

/**
 * Finds a cycle by depth-first search in definition order and returns its path, first
 * step repeated at the end (`['a', 'b', 'a']`), or undefined when the graph is acyclic.
 */
function findCycle(steps: ReadonlyMap<string, { readonly dependsOn: readonly string[] }>) {
  const state = new Map<string, 1 | 2>(); // 1 = on the stack, 2 = done
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    state.set(id, 1);
    stack.push(id);
    for (const dep of steps.get(id)?.dependsOn ?? []) {
      const s = state.get(dep);
      if (s === 1) return [...stack.slice(stack.indexOf(dep)), dep];
      if (s === undefined) {
        const found = visit(dep);
        if (found !== undefined) return found;
      }
    }
    stack.pop();
    state.set(id, 2);
    return undefined;
  };
  for (const id of steps.keys()) {
    if (state.has(id)) continue;
    const found = visit(id);
    // The path was found walking dependency edges (step → its dependency); report it in
    // execution order (dependency → dependent), which is how users read a pipeline.
    if (found !== undefined) return found.reverse();
  }
  return undefined;
}

/**
 * Validates a definition and resolves its defaults. Checks, in order: the definition's
 * shape and id; at least one step; each step's fields (id, dependsOn, trigger, retry,
 * timeoutMs, onError); duplicate ids; unknown dependencies; fallbacks (the target must
 * be another step of the definition, without dependencies, not depended upon, and not a
 * fallback user itself); cycles (the message names the path, e.g. `a -> b -> a`).
 *
 * @throws InvalidArgumentError with code `ERR_WORKFLOW_INVALID_DEFINITION`, or
 *   `ERR_WORKFLOW_CYCLE` for a cycle (a self-dependency is a cycle of one).
 */
export function validateDefinition(definition: WorkflowDefinition): ValidatedWorkflow {
  const code = 'ERR_WORKFLOW_INVALID_DEFINITION';
  if (typeof definition !== 'object' || (definition as unknown) === null) {
    invalid('definition', 'a workflow definition object', definition, code);
  }
  const id = nonEmptyString('definition.id', definition.id, MAX_ID_LENGTH, code);
  if (!Array.isArray(definition.steps)) {
    invalid('definition.steps', 'an array of steps', definition.steps, code);
  }
  if (definition.steps.length === 0) throw fail(`workflow '${id}' has no steps`, code);
  if (definition.steps.length > MAX_STEPS) {
    throw fail(`workflow '${id}' has ${definition.steps.length} steps (max ${MAX_STEPS})`, code);
  }
  const checked = definition.steps.map((raw, i) => checkStep(raw, i));
  const byId = new Map<string, (typeof checked)[number]>();
  for (const step of checked) {
    if (byId.has(step.id)) throw fail(`duplicate step id '${step.id}'`, code);
    byId.set(step.id, step);
  }
  for (const step of checked) {
    for (const dep of step.dependsOn) {
      if (!byId.has(dep)) throw fail(`step '${step.id}' depends on unknown step '${dep}'`, code);
    }
  }
  const fallbacks = new Set<string>();
  for (const step of checked) {
    if (typeof step.onError !== 'object') continue;
    const target = step.onError.fallback;
    const handler = byId.get(target);
    if (handler === undefined) {
      throw fail(`step '${step.id}' has fallback to unknown step ${describeValue(target)}`, code);
    }
    if (target === step.id) throw fail(`step '${step.id}' names itself as its fallback`, code);
    if (handler.dependsOn.length > 0) {
      throw fail(`fallback step '${target}' (of '${step.id}') must not have dependencies`, code);
    }
    if (typeof handler.onError === 'object') {
      throw fail(`fallback step '${target}' (of '${step.id}') cannot have a fallback itself`, code);
    }
    fallbacks.add(target);
  }
  const dependents = new Map<string, string[]>();
  for (const step of checked) {
    for (const dep of step.dependsOn) {
      if (fallbacks.has(dep)) {
        throw fail(
          `step '${step.id}' depends on '${dep}', a fallback step that only runs when a step fails`,
          code,
        );
      }
      const list = dependents.get(dep) ?? [];
      list.push(step.id);
      dependents.set(dep, list);
    }
  }
  const cycle = findCycle(byId);
  if (cycle !== undefined) {
    throw fail(`dependency cycle: ${cycle.join(' -> ')}`, 'ERR_WORKFLOW_CYCLE');
  }
  const steps = new Map<string, ResolvedStep>();
  for (const step of checked) {
    steps.set(step.id, {
      ...step,
      isFallback: fallbacks.has(step.id),
      dependents: dependents.get(step.id) ?? [],
    });
  }
  return Object.freeze({ id, steps, tiers: computeTiers(steps), hash: shapeHash(id, steps) });
}

/** Levels by longest path for `all` steps and shortest for `any` steps (see topologicalTiers). */
function computeTiers(steps: ReadonlyMap<string, ResolvedStep>): string[][] {
  const level = new Map<string, number>();
  const levelOf = (id: string): number => {
    const known = level.get(id);
    if (known !== undefined) return known;
    const step = steps.get(id);
    // Iterative depth would be safer for 10 000-step chains; recursion depth is bounded
    // by MAX_STEPS, which V8's default stack handles.
    let value = 0;
    if (step !== undefined && step.dependsOn.length > 0) {
      const depLevels = step.dependsOn.map(levelOf);
      value = 1 + (step.trigger === 'any' ? Math.min(...depLevels) : Math.max(...depLevels));
    }
    level.set(id, value);
    return value;
  };
  const tiers: string[][] = [];
  for (const step of steps.values()) {
    if (step.isFallback) continue;
    const l = levelOf(step.id);
    while (tiers.length <= l) tiers.push([]);
    tiers[l]?.push(step.id);
  }
  return tiers.filter((tier) => tier.length > 0);
}

function shapeHash(id: string, steps: ReadonlyMap<string, ResolvedStep>): string {
  const shape = [...steps.values()].map((s) => [
    s.id,
    [...s.dependsOn].sort(),
    s.trigger,
    typeof s.onError === 'object' ? { fallback: s.onError.fallback } : s.onError,
  ]);
  return createHash('sha256')
    .update(JSON.stringify([id, shape]))
    .digest('hex')
    .slice(0, 32);
}

/**
 * The steps in waves: a step sits in the wave after the *latest* of its dependencies
 * when its trigger is `all`, and after the *earliest* when it is `any` (the first moment
 * it could start). Each step appears exactly once, fallback steps not at all; within a
 * wave steps keep definition order. So `a; b←a; d(any)←a,b` gives `[[a], [b, d]]` (the
 * Rust reference reported a false cycle for this graph).
 *
 * The engine does not run wave by wave: each step starts as soon as its trigger is met,
 * within `maxParallelSteps`. The waves are for display and planning.
 *
 * @throws InvalidArgumentError as {@link validateDefinition}.
 */
export function topologicalTiers(definition: WorkflowDefinition): string[][] {
  return validateDefinition(definition).tiers.map((tier) => [...tier]);
}
