// Links of the packed Markdown files, checked from the tarball's point of view: a relative link must name a file
// the tarball holds, and an anchor must name a heading of that file (GitHub's slugs). Absolute URLs are not
// fetched (CI reaches no other host).

import { posix } from 'node:path';

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2, … */
function slugs(markdown) {
  const seen = new Map();
  const out = new Set();
  for (const line of withoutFences(markdown).split('\n')) {
    const heading = /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = heading[1]
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    out.add(count === 0 ? base : `${base}-${count}`);
  }
  return out;
}

function withoutFences(markdown) {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
}

/** The text with fenced blocks and inline code blanked, so code that looks like a link is not taken for one. */
function withoutCode(markdown) {
  return withoutFences(markdown).replace(/`[^`\n]*`/g, '');
}

/**
 * Every broken relative link of the Markdown files among `files` (paths inside the tarball), as
 * `file: [text](target): why`. `read(path)` returns a file's text.
 */
export function brokenLinks(files, read) {
  const present = new Set(files);
  const texts = new Map();
  const text = (path) => texts.get(path) ?? texts.set(path, read(path)).get(path);
  const broken = [];
  for (const file of files.filter((path) => path.endsWith('.md'))) {
    const links = withoutCode(text(file)).matchAll(/!?\[([^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g);
    for (const [whole, , target] of links) {
      if (/^[a-z][a-z+.-]*:/i.test(target)) continue; // https:, mailto:, …
      const [pathPart, anchor] = target.split('#', 2);
      const resolved = pathPart === '' ? file : posix.normalize(posix.join(posix.dirname(file), decodeURI(pathPart)));
      if (!present.has(resolved)) {
        broken.push(`${file}: ${whole}: ${resolved} is not in the tarball`);
        continue;
      }
      if (anchor !== undefined && resolved.endsWith('.md') && !slugs(text(resolved)).has(anchor)) {
        broken.push(`${file}: ${whole}: ${resolved} has no heading for #${anchor}`);
      }
    }
  }
  return broken;
}
