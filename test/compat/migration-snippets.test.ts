import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { exitWithin, spawnNode } from '../helpers/child.js';
import { startServer, waitFor } from '../helpers/servers.js';
import { cleanup } from '../helpers/teardown.js';

// The switch-the-import snippets of docs/migration.md, run as they are written against the BUILT package
// (needs `npm run build`): each ```js block that imports resilient-websocket/compat… is saved inside the
// package (so that `resilient-websocket/...` resolves to it, by Node's self-reference) and run by Node against a
// loopback echo server, given as `url` and `host`. A snippet that drifts from the package fails here.

const root = new URL('../../', import.meta.url);
const doc = readFileSync(new URL('docs/migration.md', root), 'utf8');
const snippets = [...doc.matchAll(/```js\n([\s\S]*?)```/g)].map((match) => match[1]!).filter((code) => code.includes("from 'resilient-websocket/compat"));

describe('docs/migration.md', () => {
  it('has the switch-the-import snippets', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(3);
  });

  it.each(snippets.map((code, index) => [index + 1, code] as const))('snippet %i runs as written: it connects, gets its echo, closes and exits', async (index, code) => {
    await waitFor(() => existsSync(fileURLToPath(new URL('dist/compat/partysocket/ws.js', root))), 15_000, 'dist (run `npm run build`)');
    const server = await startServer();
    const dir = new URL(`test/compat/.snippets-${process.pid}/`, root);
    mkdirSync(dir, { recursive: true });
    cleanup(() => rmSync(dir, { recursive: true, force: true }));
    const file = fileURLToPath(new URL(`snippet-${index}.mjs`, dir));
    const imports = code.split('\n').filter((line) => line.startsWith('import '));
    const rest = code.split('\n').filter((line) => !line.startsWith('import '));
    const preamble = [`const url = ${JSON.stringify(server.url)};`, `const host = ${JSON.stringify(server.url.replace('ws://', ''))};`];
    writeFileSync(file, [...imports, ...preamble, ...rest].join('\n'));
    const child = spawnNode(file, []);
    const exit = await exitWithin(child, 10_000);
    await child.drained;
    expect(child.stderr()).toBe('');
    expect(exit).toMatchObject({ code: 0 });
    expect(child.stdout()).toMatch(/^got /m);
  });
});
