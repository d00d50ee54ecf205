import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startServer, waitFor } from '../helpers/servers.js';
import { cleanup } from '../helpers/teardown.js';

// The built entry points, as the "exports" map serves them (needs `npm run build`): a one-line import change.

const root = new URL('../../', import.meta.url);
const require = createRequire(root);
const ENTRIES = ['compat', 'compat/partysocket', 'compat/reconnecting-websocket'] as const;

async function built(file: string): Promise<string> {
  const path = fileURLToPath(new URL(`dist/${file}`, root));
  await waitFor(() => existsSync(path), 15_000, `dist/${file} (run \`npm run build\`)`);
  return path;
}

describe('the built package', () => {
  it.each(ENTRIES)('resilient-websocket/%s (ESM): ReconnectingWebSocket as default and named export, with CloseEvent and ErrorEvent', async (entry) => {
    const file = entry === 'compat' ? 'compat/index.js' : `${entry}.js`;
    const module = await import(await built(file));
    expect(module.default).toBe(module.ReconnectingWebSocket);
    expect(typeof module.ReconnectingWebSocket).toBe('function');
    expect(Object.keys(module).sort()).toEqual(['CloseEvent', 'ErrorEvent', 'ReconnectingWebSocket', 'default']);
  });

  it('resilient-websocket/compat is the partysocket flavour', async () => {
    const compat = await import(await built('compat/index.js'));
    const party = await import(await built('compat/partysocket.js'));
    expect(compat.default).toBe(party.default);
  });

  it('CJS: reconnecting-websocket is the class itself, as require("reconnecting-websocket") was; partysocket an object', async () => {
    const rws = require(await built('compat/reconnecting-websocket.cjs'));
    expect(typeof rws).toBe('function');
    expect(rws.default).toBe(rws);
    expect(rws.ReconnectingWebSocket).toBe(rws);
    expect(rws.OPEN).toBe(1);
    const party = require(await built('compat/partysocket.cjs'));
    expect(typeof party.default).toBe('function');
    expect(party.ReconnectingWebSocket).toBe(party.default);
    // Each CJS file is a bundle of its own (no shared chunks in CJS): the same class, not the same object.
    expect(typeof require(await built('compat/index.cjs')).default.prototype.drainQueuedMessages).toBe('function');
  });

  it('CJS: the class works (ws from the package, no WebSocket option)', async () => {
    const server = await startServer();
    const ReconnectingWebSocket = require(await built('compat/reconnecting-websocket.cjs'));
    const socket = new ReconnectingWebSocket(server.url);
    cleanup(() => socket.close());
    await waitFor(() => socket.readyState === 1);
    socket.send('via cjs');
    await waitFor(() => server.received.length === 1);
  });

  it('package.json maps the three subpaths for import and require, with types', () => {
    const pkg = require('./package.json') as { exports: Record<string, { import: { types: string; default: string }; require: { types: string; default: string } }> };
    for (const entry of ENTRIES) {
      const target = pkg.exports[`./${entry}`]!;
      const base = entry === 'compat' ? './dist/compat/index' : `./dist/${entry}`;
      expect(target).toEqual({ import: { types: `${base}.d.ts`, default: `${base}.js` }, require: { types: `${base}.d.cts`, default: `${base}.cjs` } });
    }
  });
});
