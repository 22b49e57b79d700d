// TypeDoc plugin for `npm run docs:api` and the `api docs` gate in scripts/test.sh.
//
// TypeDoc requires a comment on every property it renders, including the properties of
// the INFERRED type of an exported constant (`ERROR_CODES.ERR_CLOSED.description`, a
// metric definition's `name` and `help`). Those have no declaration of their own to
// carry a comment, and the page already shows their literal value, so they are exempt:
// - an entry whose value has a string-literal `description` or `help` gets that text
//   as its summary (each error code is documented by its own table entry);
// - every other property of a constant's inferred type is listed as intentionally not
//   documented. Interfaces, type aliases, classes and their members stay required.
import { Comment, Converter, ReflectionKind } from 'typedoc';

const VALUE_CHILDREN = ReflectionKind.TypeLiteral | ReflectionKind.Property;

/** The exported constant whose inferred type holds `reflection`, if any. */
function owningConstant(reflection) {
  let parent = reflection.parent;
  while (parent?.kindOf(VALUE_CHILDREN)) parent = parent.parent;
  return parent?.kindOf(ReflectionKind.Variable) ? parent : undefined;
}

/** The text of a string-literal `description` or `help` property of an object type. */
function describedBy(reflection) {
  const children =
    reflection.type?.type === 'reflection' ? reflection.type.declaration.children : [];
  for (const child of children ?? []) {
    if ((child.name === 'description' || child.name === 'help') && child.type?.type === 'literal') {
      if (typeof child.type.value === 'string') return child.type.value;
    }
  }
  return undefined;
}

export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_END, (context) => {
    const exempt = [];
    for (const reflection of context.project.getReflectionsByKind(ReflectionKind.Property)) {
      if (reflection.hasComment() || owningConstant(reflection) === undefined) continue;
      const text = describedBy(reflection);
      if (text === undefined) exempt.push(reflection.getFriendlyFullName());
      else reflection.comment = new Comment([{ kind: 'text', text }]);
    }
    const current = app.options.getValue('intentionallyNotDocumented');
    app.options.setValue('intentionallyNotDocumented', [...new Set([...current, ...exempt])]);
  });
}
