import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import OriginalPartySocketModule from 'partysocket';
import * as originalParty from 'partysocket';
import * as originalPartyWs from 'partysocket/ws';
import { WebSocket as WS } from 'ws';
import { describe, expect, it } from 'vitest';
import { startServer, waitFor } from '../helpers/servers.js';
import { cleanup } from '../helpers/teardown.js';

// The built entry points, as the "exports" map serves them (needs `npm run build`): every import of the
// originals has a one-word replacement (issue 20, item 8).

const root = new URL('../../', import.meta.url);
const require = createRequire(root);
const ENTRIES = ['compat', 'compat/partysocket', 'compat/partysocket/ws', 'compat/reconnecting-websocket'] as const;

async function built(file: string): Promise<string> {
  const path = fileURLToPath(new URL(`dist/${file}`, root));
  await waitFor(() => existsSync(path), 15_000, `dist/${file} (run \`npm run build\`)`);
  return path;
}

/** The value exports (types are not there at run time). */
const names = (module: object) => Object.keys(module).sort();

describe('the built package', () => {
  it('compat/partysocket has the exports of partysocket: default PartySocket, PartySocket and WebSocket', async () => {
    const party = await import(await built('compat/partysocket.js'));
    expect(typeof OriginalPartySocketModule).toBe('function');
    for (const name of names(originalParty)) expect(party, name).toHaveProperty(name);
    expect(party.default).toBe(party.PartySocket);
    expect(party.WebSocket).toBe(party.ReconnectingWebSocket);
    expect(Object.getPrototypeOf(party.PartySocket)).toBe(party.WebSocket);
  });

  it('compat/partysocket/ws has the exports of partysocket/ws: the reconnecting WebSocket as default, CloseEvent and ErrorEvent', async () => {
    const ws = await import(await built('compat/partysocket/ws.js'));
    for (const name of names(originalPartyWs)) expect(ws, name).toHaveProperty(name);
    expect(typeof ws.default.prototype.drainQueuedMessages).toBe('function');
    expect(ws.default).toBe(ws.ReconnectingWebSocket);
  });

  it('compat: partysocket\'s classes by name, and its ReconnectingWebSocket as default (as before PartySocket came)', async () => {
    const compat = await import(await built('compat/index.js'));
    const party = await import(await built('compat/partysocket.js'));
    expect(compat.default).toBe(party.ReconnectingWebSocket);
    expect(compat.PartySocket).toBe(party.PartySocket);
    expect(compat.WebSocket).toBe(party.WebSocket);
  });

  it('compat/reconnecting-websocket: the class as default and named, with CloseEvent and ErrorEvent', async () => {
    const rws = await import(await built('compat/reconnecting-websocket.js'));
    expect(rws.default).toBe(rws.ReconnectingWebSocket);
    expect(names(rws)).toEqual(['CloseEvent', 'ErrorEvent', 'ReconnectingWebSocket', 'default']);
  });

  it('CJS: reconnecting-websocket is the class itself, as require("reconnecting-websocket") was; partysocket an object', async () => {
    const rws = require(await built('compat/reconnecting-websocket.cjs'));
    expect(typeof rws).toBe('function');
    expect(rws.default).toBe(rws);
    expect(rws.ReconnectingWebSocket).toBe(rws);
    expect(rws.OPEN).toBe(1);
    const party = require(await built('compat/partysocket.cjs'));
    expect(party.default).toBe(party.PartySocket);
    expect(typeof party.WebSocket).toBe('function');
    expect(typeof require(await built('compat/partysocket/ws.cjs')).default.prototype.drainQueuedMessages).toBe('function');
  });

  it('CJS: the class works', async () => {
    const server = await startServer();
    const ReconnectingWebSocket = require(await built('compat/reconnecting-websocket.cjs'));
    const socket = new ReconnectingWebSocket(server.url, undefined, { WebSocket: WS });
    cleanup(() => socket.close());
    await waitFor(() => socket.readyState === 1);
    socket.send('via cjs');
    await waitFor(() => server.received.length === 1);
  });

  it('package.json maps the subpaths for import and require, with types', () => {
    const pkg = require('./package.json') as {
      exports: Record<string, { import: { types: string; default: string }; require: { types: string; default: string } }>;
      typesVersions: { '*': Record<string, string[]> };
    };
    for (const entry of ENTRIES) {
      const target = pkg.exports[`./${entry}`]!;
      const base = entry === 'compat' ? './dist/compat/index' : `./dist/${entry}`;
      expect(target).toEqual({ import: { types: `${base}.d.ts`, default: `${base}.js` }, require: { types: `${base}.d.cts`, default: `${base}.cjs` } });
      expect(pkg.typesVersions['*'][entry]).toEqual([`${base}.d.cts`]);
    }
  });
});
