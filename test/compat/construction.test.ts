import { describe, expect, it } from 'vitest';
import { FLAVOURS, WS, create } from './helpers.js';

// What the constructor refuses, and how it says so. No socket connects here: each one starts closed or fails
// before it creates any.

describe.each(FLAVOURS)('$name: construction', ({ Class }) => {
  it('a WebSocket option that is not a class is a TypeError', () => {
    for (const WebSocket of [42, 'ws', {}, true]) {
      expect(() => new Class('ws://127.0.0.1:9', undefined, { WebSocket, startClosed: true })).toThrow(/WebSocket option must be a WebSocket class, got/);
    }
    expect(() => new Class('ws://127.0.0.1:9', undefined, { WebSocket: WS, startClosed: true }).close()).not.toThrow();
  });

  it('called without new: a TypeError', () => {
    expect(() => (Class as unknown as (url: string) => unknown)('ws://127.0.0.1:9')).toThrow(TypeError);
  });

  it('a fixed URL that cannot be connected to is refused at once, without showing it', () => {
    expect(() => new Class('not a url?token=secret')).toThrow(/an unparseable string/);
    expect(() => new Class('ftp://example.com/?token=secret')).toThrow(/a ftp: URL/);
    expect(() => new Class('ftp://example.com/?token=secret')).not.toThrow(/secret/);
    // http(s) URLs are taken as ws(s), as the browser's WebSocket does.
    expect(() => create(Class, 'http://127.0.0.1:9', undefined, { startClosed: true })).not.toThrow();
  });

  it('bad option values name the option by its name here, the range and the value', () => {
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ connectionTimeout: 0 }, /"connectionTimeout" must be a number >= 1.*got 0/],
      [{ minUptime: -1 }, /"minUptime" must be a number >= 0.*got -1/],
      [{ maxEnqueuedMessages: 1.5 }, /"maxEnqueuedMessages" must be a whole number >= 0.*got 1.5/],
      [{ maxRetries: -1 }, /"maxRetries" must be a whole number >= 0.*got -1/],
      [{ minReconnectionDelay: -5 }, /"minReconnectionDelay" must be a number >= 0, got -5/],
      [{ maxReconnectionDelay: '5' }, /"maxReconnectionDelay" must be a number >= 0, got string/],
      [{ reconnectionDelayGrowFactor: Number.NaN }, /"reconnectionDelayGrowFactor" must be a number >= 0, got NaN/],
    ];
    for (const [options, message] of bad) {
      expect(() => new Class('ws://127.0.0.1:9', undefined, { startClosed: true, ...options })).toThrow(message);
      expect(() => new Class('ws://127.0.0.1:9', undefined, { startClosed: true, ...options })).toThrow(/^ReconnectingWebSocket: /);
    }
  });

  it('the URL provider is not called by the constructor', () => {
    let calls = 0;
    create(Class, () => `ws://127.0.0.1:${++calls}`, undefined, { startClosed: true });
    expect(calls).toBe(0);
  });
});
