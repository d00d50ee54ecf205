// TypeDoc plugin for this package's API reference (typedoc.json loads it; it is not part of the package).
//  - Modules are named by their import path (`resilient-websocket/node`), not by their file (`index`, `node`),
//    and listed main entry first, in the README's order.
//  - The guides from docs/*.md are titled by their first heading, in the README's order.
//  - Helper types that only spell out a signature (the constructors' argument tuples, the wire-type test) go in
//    a group of their own at the end, so a module page starts with what a user calls.
import { Comment, CommentTag, Converter, ReflectionKind } from 'typedoc';

const PACKAGE = 'resilient-websocket';
const MODULES = ['', '/node', '/react', '/shared', '/resume', '/server', '/compat', '/compat/partysocket', '/compat/reconnecting-websocket'].map((path) => PACKAGE + path);
const DOCUMENTS = ['reference', 'recipes', 'guarantees', 'react', 'frameworks', 'shared', 'protocol', 'migration', 'performance'];
const HELPER_TYPES = new Set(['IsWireTyped', 'ReconnectingSocketArgs', 'SharedSocketArgs']);
const HELPER_GROUP = 'Helper types';

/** @param {import('typedoc').Application} app */
export function load(app) {
  const fileNames = new Map();
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    const { project } = context;
    for (const module of project.getReflectionsByKind(ReflectionKind.Module)) {
      module.name = module.name === 'index' ? PACKAGE : `${PACKAGE}/${module.name}`;
    }
    for (const document of project.getReflectionsByKind(ReflectionKind.Document)) {
      fileNames.set(document, document.name);
      const heading = /^#\s+(.+)$/m.exec(document.content.map((part) => part.text).join(''));
      if (heading) document.name = heading[1].replaceAll('`', '');
    }
    for (const reflection of project.getReflectionsByKind(ReflectionKind.TypeAlias)) {
      if (!HELPER_TYPES.has(reflection.name)) continue;
      reflection.comment ??= new Comment();
      reflection.comment.blockTags.push(new CommentTag('@group', [{ kind: 'text', text: HELPER_GROUP }]));
    }
  });
  // After TypeDoc's own sorting and grouping: main entry first, guides in reading order.
  app.converter.on(Converter.EVENT_RESOLVE_END, (context) => {
    const { project } = context;
    const rank = (reflection) => {
      const order = reflection.kindOf(ReflectionKind.Document) ? DOCUMENTS.indexOf(fileNames.get(reflection)) : MODULES.indexOf(reflection.name);
      return order === -1 ? Infinity : order;
    };
    const byRank = (a, b) => rank(a) - rank(b);
    project.children?.sort(byRank);
    project.documents?.sort(byRank);
    project.childrenIncludingDocuments?.sort((a, b) => Number(!a.kindOf(ReflectionKind.Document)) - Number(!b.kindOf(ReflectionKind.Document)) || byRank(a, b));
    for (const group of project.groups ?? []) group.children.sort(byRank);
  }, -1000);
}
