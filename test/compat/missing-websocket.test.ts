import { afterEach, describe, expect, it, vi } from 'vitest';
import PartySocket from '../../src/compat/partysocket.js';
import ReconnectingWebSocket from '../../src/compat/reconnecting-websocket.js';
import { sleep, startServer, waitFor } from '../helpers/servers.js';
import { WS, record } from './helpers.js';
import { cleanup } from '../helpers/teardown.js';

// A runtime with no WebSocket class at all: no option, no global (Node 20 has none) and no `ws` (isomorphic-ws
// is replaced here by what its browser build exports where there is no WebSocket: null).
vi.mock('isomorphic-ws', () => ({ default: null }));

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('no WebSocket class anywhere', () => {
  it('reconnecting-websocket: the constructor throws, saying how to fix it', () => {
    expect(globalThis.WebSocket).toBeUndefined();
    expect(() => new ReconnectingWebSocket('ws://127.0.0.1:9')).toThrow(/no WebSocket class found: pass the WebSocket option/);
  });

  it('partysocket: no throw; the error is printed, the attempt fails with an error event and is not retried', async () => {
    const printed = vi.spyOn(console, 'error').mockImplementation(() => {});
    const server = await startServer();
    const socket = new PartySocket(server.url, undefined, { minReconnectionDelay: 10 });
    cleanup(() => socket.close());
    expect(printed).toHaveBeenCalledTimes(1);
    expect(String(printed.mock.calls[0]![0])).toMatch(/no WebSocket class found/);
    const events = record(socket);
    await events.waitFor('close');
    await sleep(100);
    expect(events.types()).toEqual(['error', 'close']);
    expect(events.of('error')[0]!.message).toMatch(/no WebSocket class found/);
    expect(socket.readyState).toBe(3);

    // A WebSocket that appears later (a polyfill) is found by the next reconnect().
    vi.stubGlobal('WebSocket', WS);
    socket.reconnect();
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
