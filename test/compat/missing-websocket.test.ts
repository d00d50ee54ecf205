import { afterEach, describe, expect, it, vi } from 'vitest';
import PartySocket from '../../src/compat/partysocket-ws.js';
import ReconnectingWebSocket from '../../src/compat/reconnecting-websocket.js';
import { startServer, waitFor } from '../helpers/servers.js';
import { WS, record } from './helpers.js';
import { cleanup } from '../helpers/teardown.js';

// A runtime with no WebSocket class: no option and no global (Node 20 has none). The originals have no other
// fallback either (issue 20, item 4).

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('no WebSocket class anywhere', () => {
  it('reconnecting-websocket: the constructor throws, saying how to fix it (not with startClosed, as the original)', () => {
    expect(globalThis.WebSocket).toBeUndefined();
    expect(() => new ReconnectingWebSocket('ws://127.0.0.1:9')).toThrow(/No valid WebSocket class provided: pass the WebSocket option/);
    expect(() => new ReconnectingWebSocket('ws://127.0.0.1:9', undefined, { WebSocket: {} })).toThrow(TypeError);
    expect(() => new ReconnectingWebSocket('ws://127.0.0.1:9', undefined, { startClosed: true }).close()).not.toThrow();
  });

  it('partysocket: no throw; each attempt fails with an error event and is retried; a global WebSocket that appears later is used', async () => {
    const server = await startServer();
    const socket = new PartySocket(server.url, undefined, { minReconnectionDelay: 10, maxReconnectionDelay: 10 });
    cleanup(() => socket.close());
    const events = record(socket);
    await events.waitFor('error', 2);
    // partysocket's own message: the ReferenceError of a runtime without WebSocket.
    expect(events.of('error')[0]!.message).toBe('WebSocket is not defined');
    expect(events.of('error')[0]!.error).toBeInstanceOf(ReferenceError);
    // No socket was ever created, so no close event (as partysocket).
    expect(events.of('close')).toEqual([]);

    // A polyfill installed later is picked up by the next attempt.
    vi.stubGlobal('WebSocket', WS);
    await events.waitFor('open');
    await waitFor(() => server.connections === 1);
  });

  it('the WebSocket option still works', async () => {
    const server = await startServer();
    const socket = new ReconnectingWebSocket(server.url, undefined, { WebSocket: WS });
    cleanup(() => socket.close());
    await waitFor(() => socket.readyState === 1);
  });
});
