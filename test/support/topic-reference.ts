// A deliberately naive topic matcher and fast-check arbitraries, shared by the pub/sub
// property tests: the indexed matcher and the trie must agree with this on every input.
import fc from 'fast-check';

/** Splits both strings and compares level by level (DESIGN.md §5 rules). */
export function referenceMatch(pattern: string, topic: string): boolean {
  const p = pattern.split('/');
  const t = topic.split('/');
  for (let i = 0; i < p.length; i++) {
    const level = p[i];
    if (level === '#') return true;
    if (i >= t.length) return false;
    if (level !== '+' && level !== '*' && level !== t[i]) return false;
  }
  return p.length === t.length;
}

/** Levels over a small alphabet so that matches are frequent. */
export const levelArb = fc.constantFrom('a', 'b', 'c', '', 'ab');

/** Valid published topics of 1..6 levels. */
export const topicArb = fc
  .array(levelArb, { minLength: 1, maxLength: 6 })
  .map((levels) => levels.join('/'))
  .filter((t) => t.length > 0);

/** Valid patterns of 1..6 levels, with `+`, `*` and a trailing `#`. */
export const patternArb = fc
  .tuple(
    fc.array(fc.oneof(levelArb, fc.constant('+'), fc.constant('*')), {
      minLength: 1,
      maxLength: 6,
    }),
    fc.boolean(),
  )
  .map(([levels, hash]) => (hash ? [...levels.slice(0, -1), '#'] : levels).join('/'))
  .filter((p) => p.length > 0);
