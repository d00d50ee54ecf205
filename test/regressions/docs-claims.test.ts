import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ReconnectingSocket, createManualEnvironment, opened } from '../../src/index.js';
import { sleep, startServer, waitFor } from '../helpers/servers.js';
import { FASTER, socketFactory } from '../helpers/socket.js';
import { cleanup } from '../helpers/teardown.js';

// Claims of README.md and of the TSDoc in src/ checked against what the code does. Each test states the claim
// it holds the code to; each one failed when it was written.

const createSocket = socketFactory(FASTER);

describe('protocol', () => {
  it("is '' once the socket is no longer open (TSDoc: \"'' when none or not open\")", async () => {
    const server = await startServer({ handleProtocols: () => 'v1' });
    const socket = createSocket(server.url, { protocols: ['v1'] });
    await opened(socket, { timeoutMs: 5_000 });
    expect(socket.protocol).toBe('v1');
    const closing = socket.close();
    expect(socket.state).toBe('closing');
    expect(socket.protocol, "state is 'closing', not open").toBe('');
    await closing;
  });
});

describe('durations above the setTimeout limit (2^31 - 1 ms)', () => {
  // Every duration option accepts any finite number, but setTimeout runs a longer delay after 1 ms.

  it('a duration option beyond the setTimeout limit is refused at once, naming the limit', () => {
    // Accepted, 2^31 ms would have fired at once and torn every attempt down immediately.
    for (const options of [{ connectTimeoutMs: 2 ** 31 }, { closeTimeoutMs: 2 ** 31 }, { heartbeat: { intervalMs: 2 ** 31 } }]) {
      expect(() => new ReconnectingSocket('ws://127.0.0.1:9/never', { autoConnect: false, environment: null, ...options })).toThrow(/<= 2147483647/);
    }
    expect(() => new ReconnectingSocket('ws://127.0.0.1:9/never', { autoConnect: false, environment: null, connectTimeoutMs: 2 ** 31 - 1 })).not.toThrow();
  });

  it.each([2 ** 31, Infinity])('a delay() of %s ms is cut to the timer limit and does not retry at once', async (delay) => {
    const server = await startServer({ onConnection: (ws) => ws.close(1012, 'restart') });
    const socket = createSocket(server.url, { delay: () => delay });
    await waitFor(() => socket.retry !== undefined, 5_000, 'a planned retry');
    expect(socket.retry?.delayMs).toBe(2_147_483_647);
    await sleep(400);
    expect(server.connections, 'a retry planned 24 days from now').toBe(1);
  });
});

describe('environment and signal listeners of a socket that never started', () => {
  // README: "While the socket runs, from its first attempt to its final close, it follows the environment and
  // the signal option. [...] neither window nor a long-lived AbortSignal keeps a closed socket alive."

  it('autoConnect: false does not subscribe to the environment before the first attempt', () => {
    const environment = createManualEnvironment();
    const socket = new ReconnectingSocket('ws://127.0.0.1:9/never', { autoConnect: false, environment });
    cleanup(() => socket.dispose());
    expect(socket.state).toBe('closed');
    expect(environment.listenerCount, 'an idle socket is held by the environment').toBe(0);
  });

  it('autoConnect: false does not listen on the signal before the first attempt', () => {
    const controller = new AbortController();
    const socket = new ReconnectingSocket('ws://127.0.0.1:9/never', { autoConnect: false, environment: null, signal: controller.signal });
    cleanup(() => socket.dispose());
    expect(getEventListeners(controller.signal, 'abort'), 'an idle socket is held by the signal').toHaveLength(0);
  });
});

describe('connect() and reconnect() while a retry is held offline', () => {
  // README: connect() "During backoff it starts the planned retry now."; reconnect() "starts a fresh attempt
  // at once". Both do nothing while the environment says offline, though reconnect() from `open` ignores it.

  async function heldOffline() {
    const server = await startServer({ onConnection: (ws) => server.connections === 1 && ws.close(1012, 'restart') });
    const environment = createManualEnvironment();
    const socket = createSocket(server.url, { environment, initialDelayMs: 10_000, maxDelayMs: 10_000 });
    await waitFor(() => socket.retry !== undefined, 5_000, 'a planned retry');
    environment.emit('offline');
    expect(socket.retry?.hold).toBe('offline');
    return { server, socket };
  }

  it('connect() starts the planned retry now', async () => {
    const { server, socket } = await heldOffline();
    socket.connect();
    await sleep(300);
    expect(socket.state, 'connect() during backoff').not.toBe('closed');
    expect(server.connections).toBe(2);
  });

  it('reconnect() starts a fresh attempt at once', async () => {
    const { server, socket } = await heldOffline();
    socket.reconnect();
    await sleep(300);
    expect(socket.state, 'reconnect() during backoff').not.toBe('closed');
    expect(server.connections).toBe(2);
  });
});

describe("queue.overflow 'drop-oldest'", () => {
  it('queues a new message by evicting older ones, except one larger than maxBytes on its own (as documented)', () => {
    const socket = createSocket('ws://127.0.0.1:9/never', { autoConnect: false, environment: null, queue: { maxBytes: 8, overflow: 'drop-oldest' } });
    const drops: unknown[] = [];
    socket.on('drop', ({ message, reason }) => drops.push([message, reason]));
    expect(socket.send('1234')).toBe('queued');
    expect(socket.send('12345678'), 'an 8-byte message evicts the 4-byte one').toBe('queued');
    expect(drops).toEqual([['1234', 'overflow']]);
    expect(socket.send('123456789'), 'a 9-byte message can never fit maxBytes 8').toBe('dropped');
    expect(drops).toEqual([['1234', 'overflow'], ['123456789', 'overflow']]);
    expect(socket.queued.map((item) => item.message)).toEqual(['12345678']);
  });
});

describe('URLs in error messages', () => {
  it('a malformed url does not put its query string into the TypeError (errors.ts: redactUrl is for messages)', () => {
    let message = '';
    try {
      new ReconnectingSocket('example.com/feed?token=SECRET-TOKEN', { autoConnect: false, environment: null });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/url/);
    expect(message).not.toContain('SECRET-TOKEN');
  });

  it('nor does a provider that returns one put it into the PROVIDER_FAILED error', async () => {
    const socket = createSocket(() => 'example.com/feed?token=SECRET-TOKEN', { maxRetries: 0, environment: null });
    const messages: string[] = [];
    socket.on('error', ({ error }) => messages.push(error.message));
    await socket.closed;
    expect(messages.length).toBeGreaterThan(0);
    for (const message of messages) expect(message).not.toContain('SECRET-TOKEN');
  });
});
