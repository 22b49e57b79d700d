import { InvalidArgumentError } from '../core/errors.js';
import { describeValue } from '../core/validate.js';

/**
 * A dependency graph: each node maps to the nodes it depends on. A node named only as a
 * dependency is a root with no dependencies of its own.
 */
export type Dag =
  | {
      /** Node → the nodes it depends on, as a plain object. */
      readonly edges: Readonly<Record<string, readonly string[]>>;
    }
  | {
      /** Node → the nodes it depends on, as a Map (any string keys, insertion order kept). */
      readonly edges: ReadonlyMap<string, readonly string[]>;
    };

function entriesOf(dag: Dag): [string, readonly string[]][] {
  if (typeof dag !== 'object' || (dag as unknown) === null) {
    throw new InvalidArgumentError(`dag: expected { edges }, got ${describeValue(dag)}`);
  }
  const edges: unknown = dag.edges;
  const entries: [unknown, unknown][] =
    edges instanceof Map
      ? [...(edges as Map<unknown, unknown>).entries()]
      : typeof edges === 'object' && edges !== null
        ? Object.entries(edges)
        : [];
  if (!(edges instanceof Map) && (typeof edges !== 'object' || edges === null)) {
    throw new InvalidArgumentError(
      `dag.edges: expected an object or Map, got ${describeValue(edges)}`,
    );
  }
  for (const [node, deps] of entries) {
    if (typeof node !== 'string') {
      throw new InvalidArgumentError(
        `dag.edges: expected string node names, got ${describeValue(node)}`,
      );
    }
    if (!Array.isArray(deps) || deps.some((d) => typeof d !== 'string')) {
      throw new InvalidArgumentError(
        `dag.edges[${JSON.stringify(node)}]: expected an array of node names, got ${describeValue(deps)}`,
      );
    }
  }
  return entries as [string, readonly string[]][];
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Orders the nodes of `dag` so each comes after its dependencies (Kahn's algorithm, with
 * every batch of newly ready nodes sorted, so the order is deterministic).
 *
 * @throws InvalidArgumentError `ERR_QUEUE_DAG_CYCLE` when there is a cycle. The message
 *   and `details.members` list every node that could not be ordered (the cycle's members
 *   and everything downstream of them), sorted.
 */
export function topologicalSort(dag: Dag): string[] {
  const deps = new Map<string, string[]>();
  const dependents = new Map<string, string[]>();
  const node = (name: string): void => {
    if (!deps.has(name)) {
      deps.set(name, []);
      dependents.set(name, []);
    }
  };
  for (const [name, list] of entriesOf(dag)) {
    node(name);
    for (const dep of list) {
      node(dep);
      (deps.get(name) as string[]).push(dep);
      (dependents.get(dep) as string[]).push(name);
    }
  }
  const indegree = new Map<string, number>();
  for (const [name, list] of deps) indegree.set(name, list.length);
  const order: string[] = [...deps.keys()].filter((n) => indegree.get(n) === 0).sort(compare);
  for (let i = 0; i < order.length; i++) {
    const batch: string[] = [];
    for (const next of dependents.get(order[i] as string) as string[]) {
      const left = (indegree.get(next) as number) - 1;
      indegree.set(next, left);
      if (left === 0) batch.push(next);
    }
    order.push(...batch.sort(compare));
  }
  if (order.length < deps.size) {
    const done = new Set(order);
    const members = [...deps.keys()].filter((n) => !done.has(n)).sort(compare);
    throw new InvalidArgumentError(
      `dependency graph contains a cycle involving: ${members.join(', ')}`,
      { code: 'ERR_QUEUE_DAG_CYCLE', details: { members } },
    );
  }
  return order;
}

/**
 * Answers "which nodes can run now?" for an acyclic dependency graph. It tracks no
 * in-flight work: pass the completed set and exclude nodes you already started.
 *
 * @example
 * ```ts
 * const s = new DagScheduler({ edges: { b: ['a'], c: ['a'], d: ['b', 'c'] } });
 * s.ready(new Set());           // ['a']
 * s.ready(new Set(['a']));      // ['b', 'c']
 * ```
 */
export class DagScheduler {
  readonly #deps = new Map<string, ReadonlySet<string>>();
  /** The nodes in a valid execution order. */
  readonly order: readonly string[];

  /** @throws InvalidArgumentError `ERR_QUEUE_DAG_CYCLE` when `dag` has a cycle. */
  constructor(dag: Dag) {
    this.order = Object.freeze(topologicalSort(dag));
    for (const name of this.order) this.#deps.set(name, new Set());
    for (const [name, list] of entriesOf(dag)) {
      const set = this.#deps.get(name) as Set<string>;
      for (const dep of list) set.add(dep);
    }
  }

  /** Same as the free function {@link topologicalSort}. */
  static topologicalSort(dag: Dag): string[] {
    return topologicalSort(dag);
  }

  /** Number of nodes. */
  get size(): number {
    return this.#deps.size;
  }

  /** The dependencies of `node` (empty for unknown nodes). */
  dependenciesOf(node: string): string[] {
    return [...(this.#deps.get(node) ?? [])].sort(compare);
  }

  /**
   * Every node not in `completed` whose dependencies are all in `completed`, sorted.
   * Unknown names in `completed` are ignored.
   */
  ready(completed: ReadonlySet<string>): string[] {
    const out: string[] = [];
    for (const [name, deps] of this.#deps) {
      if (completed.has(name)) continue;
      let ok = true;
      for (const dep of deps) {
        if (!completed.has(dep)) {
          ok = false;
          break;
        }
      }
      if (ok) out.push(name);
    }
    return out.sort(compare);
  }
}
