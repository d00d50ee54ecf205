import OriginalPartySocket from 'partysocket';
import { WebSocket as WS } from 'ws';
import { afterEach, describe, expect, it, vi } from 'vitest';
import PartySocket from '../../src/compat/partysocket.js';
import { startServer, waitFor } from '../helpers/servers.js';
import { cleanup } from '../helpers/teardown.js';

// PartySocket against partysocket's own (issue 20, item 8): the URL it builds from host, room, party, basePath,
// prefix, path, protocol and query; its getters; updateProperties(); reconnect()'s checks; static fetch().

type AnyPartySocket = {
  id: string;
  room?: string;
  host: string;
  name: string;
  path: string;
  basePath?: string;
  roomUrl: string;
  url: string;
  readyState: number;
  updateProperties(options: object): void;
  reconnect(code?: number, reason?: string): void;
  close(): void;
  addEventListener(type: string, listener: (event: any) => void): void;
};
type PartyClass = new (options: any) => AnyPartySocket;
const CLASSES = [
  ['partysocket', OriginalPartySocket as unknown as PartyClass],
  ['ours', PartySocket as unknown as PartyClass],
] as const;

function make(Class: PartyClass, options: object): AnyPartySocket {
  const socket = new Class({ WebSocket: WS, startClosed: true, ...options });
  cleanup(() => socket.close());
  return socket;
}

const getters = (socket: AnyPartySocket) => ({ id: socket.id, room: socket.room, host: socket.host, name: socket.name, path: socket.path, basePath: socket.basePath, roomUrl: socket.roomUrl });

afterEach(() => {
  vi.restoreAllMocks();
});

describe('PartySocket: the same as partysocket', () => {
  const cases: Array<[string, object]> = [
    ['host and room', { host: 'my-app.example.com', room: 'lobby', id: 'me' }],
    ['a scheme and a trailing slash on the host', { host: 'https://my-app.example.com/', room: 'lobby', id: 'me' }],
    ['party, prefix and path', { host: 'my-app.example.com', room: 'r', party: 'game', prefix: 'rooms', path: 'sub/x', id: 'me' }],
    ['basePath', { host: 'my-app.example.com', basePath: 'custom/place', path: 'p', id: 'me' }],
    ['localhost with a port: ws', { host: 'localhost:1999', room: 'r', id: 'me' }],
    ['127.0.0.1 with a port: ws', { host: '127.0.0.1:1999', room: 'r', id: 'me' }],
    ['private addresses: ws', { host: '192.168.1.2:80', room: 'r', id: 'me' }],
    ['10.x and 172.16-31.x: ws', { host: '172.20.0.1', room: 'r', id: 'me' }],
    ['a protocol given', { host: 'localhost:1999', room: 'r', protocol: 'wss', id: 'me' }],
  ];

  it.each(cases)('%s: the same getters', (_name, options) => {
    const [theirs, ours] = CLASSES.map(([, Class]) => getters(make(Class, options)));
    expect(ours).toEqual(theirs);
  });

  it('a query object and a query provider (sync or async): the URL of each attempt, with _pk first and nulls left out', async () => {
    const server = await startServer();
    const host = server.url.replace('ws://', '');
    for (const query of [{ a: '1', b: null, c: 'x y' }, () => ({ token: 't1' }), async () => ({ token: 't2', skip: undefined })]) {
      const urls: string[] = [];
      for (const [, Class] of CLASSES) {
        const socket = make(Class, { host, room: 'r', id: 'me', query, startClosed: false });
        await waitFor(() => socket.readyState === 1);
        urls.push(socket.url);
        socket.close();
      }
      expect(urls[1]).toBe(urls[0]);
      expect(urls[1]).toMatch(/\?_pk=me/);
    }
  });

  it('without id: a random UUID, different per socket', () => {
    const a = make(PartySocket as unknown as PartyClass, { host: 'h.example', room: 'r' });
    const b = make(PartySocket as unknown as PartyClass, { host: 'h.example', room: 'r' });
    expect(a.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a.id).not.toBe(b.id);
  });

  it('updateProperties(): the next attempt goes to the new room; the getters change; the connection stays until reconnect()', async () => {
    const server = await startServer();
    const paths: string[] = [];
    server.wss.on('connection', (_ws, req) => paths.push(req.url!.replace(/\?.*/, '')));
    const host = server.url.replace('ws://', '');
    const seen: unknown[] = [];
    for (const [, Class] of CLASSES) {
      const socket = make(Class, { host, room: 'one', id: 'me', startClosed: false });
      await waitFor(() => socket.readyState === 1);
      socket.updateProperties({ room: 'two', party: 'other' });
      seen.push({ ...getters(socket), readyState: socket.readyState });
      socket.reconnect();
      await waitFor(() => paths.length % 2 === 0 && socket.readyState === 1);
      socket.close();
    }
    expect(seen[1]).toEqual(seen[0]);
    expect(paths).toEqual(['/parties/main/one', '/parties/other/two', '/parties/main/one', '/parties/other/two']);
  });

  it('without room or basePath: the constructor throws (unless startClosed), and reconnect() throws until one is set', () => {
    for (const [, Class] of CLASSES) {
      expect(() => new Class({ WebSocket: WS, host: 'h.example' })).toThrow(/room or basePath/);
      const socket = make(Class, { host: 'h.example' });
      expect(() => socket.reconnect()).toThrow(/room/);
      socket.updateProperties({ room: 'r' });
      expect(socket.room).toBe('r');
    }
  });

  it('a path that starts with a slash is refused', () => {
    for (const [, Class] of CLASSES) expect(() => make(Class, { host: 'h.example', room: 'r', path: '/x' })).toThrow(/path must not start with a slash/);
  });

  it('a party or room name with a slash: one warning each, none with disableNameValidation', () => {
    const warned: number[] = [];
    for (const [, Class] of CLASSES) {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      make(Class, { host: 'h.example', room: 'a/b', party: 'c/d' });
      make(Class, { host: 'h.example', room: 'a/b', party: 'c/d', disableNameValidation: true });
      warned.push(warn.mock.calls.length);
      expect(warn.mock.calls.every(([text]) => /forward slash/.test(String(text)))).toBe(true);
      warn.mockRestore();
    }
    expect(warned).toEqual([2, 2]);
  });

  it('static fetch(): the room URL over http(s), with the query, through the given fetch', async () => {
    const calls: unknown[][] = [];
    const fetch = (async (...args: unknown[]) => {
      calls.push(args);
      return new Response('ok');
    }) as typeof globalThis.fetch;
    for (const [, Class] of CLASSES) {
      const Party = Class as unknown as { fetch(options: object, init?: RequestInit): Promise<Response> };
      await Party.fetch({ host: 'my-app.example.com', room: 'r', party: 'p', query: async () => ({ q: '1' }), fetch }, { method: 'POST' });
      await Party.fetch({ host: 'localhost:1999', room: 'r', fetch });
    }
    expect(calls.slice(2)).toEqual(calls.slice(0, 2));
    expect(calls[0]).toEqual(['https://my-app.example.com/parties/p/r?q=1', { method: 'POST' }]);
  });

  it('updateProperties() after a path was given works (partysocket threw "path must not start with a slash")', () => {
    const socket = make(PartySocket as unknown as PartyClass, { host: 'h.example', room: 'r', path: 'deep' });
    socket.updateProperties({ room: 's' });
    expect(socket.roomUrl).toBe('wss://h.example/parties/main/s/deep');
  });
});
