import { describe, expect, it } from 'vitest';
import { FLAVOURS, create, record } from './helpers.js';

// What the constructor refuses, and how it says so. The originals check nothing but (reconnecting-websocket)
// the WebSocket class; option values the engine cannot run with are refused here, by the caller's names.

describe.each(FLAVOURS)('$name: construction', ({ name, Class }) => {
  it('called without new: a TypeError', () => {
    expect(() => (Class as unknown as (url: string) => unknown)('ws://127.0.0.1:9')).toThrow(TypeError);
  });

  it('a WebSocket option that is not a WebSocket class: reconnecting-websocket throws; partysocket fails each attempt', async () => {
    if (name === 'reconnecting-websocket') {
      for (const WebSocket of [42, 'ws', {}, true]) expect(() => new Class('ws://127.0.0.1:9', undefined, { WebSocket })).toThrow(/No valid WebSocket class provided/);
      return;
    }
    const socket = create(Class, 'ws://127.0.0.1:9', undefined, { WebSocket: {}, maxRetries: 0 });
    const events = record(socket);
    await events.waitFor('error');
    expect(events.types()).toEqual(['error']);
  });

  it('a fixed URL that cannot be connected to: an error event that does not show it, as partysocket reports it', async () => {
    const socket = create(Class, 'ftp://example.com/?token=secret', undefined, { maxRetries: 0 });
    const events = record(socket);
    await events.waitFor('error');
    expect(events.of('error')[0]!.message).toMatch(/ftp/);
    expect(events.of('error')[0]!.message).not.toMatch(/secret/);
  });

  it('bad option values the engine cannot run with name the option by its name here, the range and the value', () => {
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ connectionTimeout: 0 }, /"connectionTimeout" must be .*got 0/],
      [{ minUptime: -1 }, /"minUptime" must be .*got -1/],
      [{ maxRetries: -1 }, /"maxRetries" must be .*got -1/],
    ];
    for (const [options, message] of bad) {
      expect(() => new Class('ws://127.0.0.1:9', undefined, { startClosed: true, ...options })).toThrow(message);
      expect(() => new Class('ws://127.0.0.1:9', undefined, { startClosed: true, ...options })).toThrow(/^ReconnectingWebSocket: /);
    }
  });

  it('the delays are taken as the originals take them: any value, in their formula', () => {
    for (const options of [{ minReconnectionDelay: -5 }, { maxReconnectionDelay: '5' }, { reconnectionDelayGrowFactor: Number.NaN }, { reconnectionDelayGrowFactor: 0.5 }] as Record<string, unknown>[]) {
      expect(() => new Class('ws://127.0.0.1:9', undefined, { startClosed: true, ...options }).close()).not.toThrow();
    }
  });

  it('the URL provider is not called by the constructor', () => {
    let calls = 0;
    create(Class, () => `ws://127.0.0.1:${++calls}`, undefined, { startClosed: true });
    expect(calls).toBe(0);
  });
});
