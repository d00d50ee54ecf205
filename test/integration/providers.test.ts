import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { SocketError, type ProviderContext } from '../../src/index.js';
import { trackUnhandledRejections } from '../helpers/messaging.js';
import { nextEvent, recordEvents, sleep, startServer, waitFor } from '../helpers/servers.js';
import { FASTER, socketFactory } from '../helpers/socket.js';

// url, protocols and headers may be (async) functions called before every attempt with { signal, attempt }.

const createSocket = socketFactory(FASTER);
const rejections = trackUnhandledRejections();

/** Resolves with `value` after `ms`: a slow provider. */
function later<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms));
}

describe('url provider', () => {
  it('is awaited before every attempt, with a fresh signal and an attempt number that grows on retries', async () => {
    const server = await startServer({
      // The first two connections are dropped at once; the third is kept.
      onConnection: (ws) => {
        if (server.connections <= 2) ws.terminate();
      },
    });
    const contexts: ProviderContext[] = [];
    const socket = createSocket(async (context) => {
      contexts.push(context);
      await sleep(5);
      return `${server.url}/attempt-${context.attempt}`;
    });
    const opens = recordEvents(socket, ['open']);
    await waitFor(() => opens.of('open').length === 3, 5_000, 'three opens');
    expect(opens.of('open').map((event) => event.attempt)).toEqual([0, 1, 2]);
    expect(contexts.map((context) => context.attempt)).toEqual([0, 1, 2]);
    for (const context of contexts) expect(context.signal).toBeInstanceOf(AbortSignal);
    expect(new Set(contexts.map((context) => context.signal)).size).toBe(3);
    // Attempts that are over have released their signal.
    expect(contexts[0]!.signal.aborted).toBe(true);
    expect(contexts[1]!.signal.aborted).toBe(true);
    expect(socket.state).toBe('open');
  });

  it('accepts a provider returning a URL object, and an http: URL becomes ws:', async () => {
    const server = await startServer();
    const socket = createSocket(() => new URL(server.url.replace('ws:', 'http:')));
    await nextEvent(socket, 'open');
    expect(server.connections).toBe(1);
  });

  it('a provider that rejects, then succeeds: PROVIDER_FAILED, close with cause provider, backoff, then open', async () => {
    const server = await startServer();
    const failure = new Error('token service unavailable');
    const socket = createSocket(async ({ attempt }) => {
      if (attempt === 0) throw failure;
      return server.url;
    });
    const log = recordEvents(socket, ['error', 'close', 'reconnecting', 'open', 'state']);
    await nextEvent(socket, 'open');

    const [errorEvent] = log.of('error');
    expect(errorEvent.error).toBeInstanceOf(SocketError);
    expect(errorEvent.error.code).toBe('PROVIDER_FAILED');
    expect(errorEvent.error.cause).toBe(failure);
    expect(errorEvent.error.message).toContain('token service unavailable');

    const [close] = log.of('close');
    expect(close).toMatchObject({ code: 1006, wasClean: false, cause: 'provider', willReconnect: true });
    expect(close.delayMs).toBeGreaterThanOrEqual(0);
    expect(close.error).toBe(errorEvent.error);
    expect(log.of('reconnecting')).toEqual([{ attempt: 1, delayMs: close.delayMs }]);
    expect(log.of('open')).toEqual([{ attempt: 1, protocol: '' }]);
    expect(log.events.map((event) => event.type).filter((type) => type !== 'state')).toEqual(['error', 'close', 'reconnecting', 'open']);
    expect(server.connections).toBe(1);
  });

  it('a provider that throws synchronously is reported asynchronously, like a rejection', async () => {
    const server = await startServer();
    let calls = 0;
    const socket = createSocket(() => {
      calls++;
      if (calls === 1) throw new TypeError('no token yet');
      return server.url;
    });
    const log = recordEvents(socket, ['error', 'close', 'open']);
    // Nothing happened inside the constructor.
    expect(log.events).toEqual([]);
    expect(calls).toBe(0);
    await nextEvent(socket, 'open');
    expect(log.of('error').map((event) => event.error.code)).toEqual(['PROVIDER_FAILED']);
    expect(log.of('error')[0].error.cause).toBeInstanceOf(TypeError);
    expect(log.of('close')[0]).toMatchObject({ cause: 'provider', willReconnect: true });
    expect(log.of('open')).toEqual([{ attempt: 1, protocol: '' }]);
  });

  it('a provider returning something that is not a ws url fails the attempt with PROVIDER_FAILED', async () => {
    const server = await startServer();
    const socket = createSocket(async ({ attempt }) => (attempt === 0 ? 'ftp://127.0.0.1/nope' : server.url));
    const log = recordEvents(socket, ['error', 'close']);
    await nextEvent(socket, 'open');
    expect(log.of('error').map((event) => event.error.code)).toEqual(['PROVIDER_FAILED']);
    expect(log.of('close')[0]).toMatchObject({ cause: 'provider' });
  });

  it('when the policy allows no retry, a failing provider ends the socket and closed resolves with cause provider', async () => {
    const socket = createSocket(
      async () => {
        throw new Error('denied');
      },
      { maxRetries: 0 },
    );
    const errors: SocketError[] = [];
    socket.on('error', ({ error }) => errors.push(error));
    const record = await socket.closed;
    expect(record).toMatchObject({ code: 1006, cause: 'provider' });
    expect(socket.state).toBe('closed');
    expect(socket.retry).toBeUndefined();
    expect(errors.map((error) => error.code)).toEqual(['PROVIDER_FAILED']);
  });
});

describe('a slow provider overtaken', () => {
  it('by close(): its signal aborts, its late result is ignored, nothing reaches the server', async () => {
    const server = await startServer();
    let context: ProviderContext | undefined;
    const socket = createSocket((c) => {
      context = c;
      return later(250, server.url);
    });
    const log = recordEvents(socket);
    await waitFor(() => context);
    expect(context!.signal.aborted).toBe(false);

    const record = await socket.close();
    expect(context!.signal.aborted).toBe(true);
    expect(record).toMatchObject({ cause: 'client' });
    expect(socket.state).toBe('closed');

    await sleep(400);
    expect(server.connections).toBe(0);
    expect(log.of('open')).toEqual([]);
    expect(log.of('error')).toEqual([]);
    expect(socket.state).toBe('closed');
  });

  it('by close(): a provider that rejects on abort (like fetch) causes no error event and no unhandled rejection', async () => {
    const server = await startServer();
    let aborted = false;
    const socket = createSocket(
      ({ signal }) =>
        new Promise<string>((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            aborted = true;
            reject(signal.reason ?? new Error('aborted'));
          });
        }),
    );
    const log = recordEvents(socket, ['error', 'open', 'reconnecting']);
    await sleep(30);
    await socket.close();
    expect(aborted).toBe(true);
    await sleep(100);
    expect(log.events).toEqual([]);
    expect(server.connections).toBe(0);
    expect(rejections.list).toEqual([]);
  });

  it('by dispose(): its signal aborts and its late result opens nothing', async () => {
    const server = await startServer();
    let context: ProviderContext | undefined;
    const socket = createSocket((c) => {
      context = c;
      return later(200, server.url);
    });
    await waitFor(() => context);
    socket.dispose();
    expect(context!.signal.aborted).toBe(true);
    await sleep(350);
    expect(server.connections).toBe(0);
    expect(socket.state).toBe('closed');
  });

  it('by reconnect(): the abandoned attempt is ignored and exactly one connection is made', async () => {
    const server = await startServer();
    const contexts: ProviderContext[] = [];
    const socket = createSocket((c) => {
      contexts.push(c);
      return later(contexts.length === 1 ? 300 : 10, server.url);
    });
    const log = recordEvents(socket, ['open', 'close']);
    await waitFor(() => contexts.length === 1);
    socket.reconnect();
    expect(contexts[0]!.signal.aborted).toBe(true);
    await nextEvent(socket, 'open');
    await sleep(450);
    expect(server.connections).toBe(1);
    expect(server.clients.size).toBe(1);
    expect(log.of('open')).toHaveLength(1);
    expect(log.of('close')).toEqual([expect.objectContaining({ cause: 'reconnect', willReconnect: true })]);
  });

  it('by connectTimeoutMs: CONNECT_TIMEOUT, the signal aborts, and the retry calls the provider again', async () => {
    const server = await startServer();
    const contexts: ProviderContext[] = [];
    const slowMs = 1_200;
    const started = Date.now();
    const socket = createSocket(
      (c) => {
        contexts.push(c);
        return later(c.attempt === 0 ? slowMs : 5, server.url);
      },
      { connectTimeoutMs: 400 },
    );
    const log = recordEvents(socket, ['error', 'close', 'open']);
    await nextEvent(socket, 'open', 5_000);
    expect(log.of('error').map((event) => event.error.code)).toEqual(['CONNECT_TIMEOUT']);
    expect(log.of('close')[0]).toMatchObject({ cause: 'connect-timeout', willReconnect: true });
    expect(contexts[0]!.signal.aborted).toBe(true);
    expect(contexts.map((c) => c.attempt)).toEqual([0, 1]);
    // The first provider's late answer must not open a second connection.
    await sleep(Math.max(0, started + slowMs + 200 - Date.now()));
    expect(server.connections).toBe(1);
    expect(log.of('open')).toHaveLength(1);
  });

  it('a sync-throwing provider next to a pending async one leaves no unhandled rejection', async () => {
    const server = await startServer();
    let urlCalls = 0;
    const socket = createSocket(
      ({ signal }) => {
        urlCalls++;
        // Like fetch(): rejects once the attempt's signal aborts.
        return new Promise<string>((resolve, reject) => {
          if (urlCalls > 1) return resolve(server.url);
          signal.addEventListener('abort', () => reject(new Error('aborted by the socket')));
        });
      },
      {
        headers: ({ attempt }) => {
          if (attempt === 0) throw new Error('no credentials yet');
          return { 'x-token': 'ok' };
        },
      },
    );
    const log = recordEvents(socket, ['error', 'open']);
    const before = rejections.list.length;
    await nextEvent(socket, 'open');
    await sleep(100);
    // Taken out of the file-wide collector so that it reports only what this test does not check.
    const leaked = rejections.list.splice(before);
    expect(log.of('error').map((event) => event.error.code)).toEqual(['PROVIDER_FAILED']);
    expect(leaked).toEqual([]);
  });
});

describe('protocols and headers providers', () => {
  it('a protocols provider is called per attempt and the server-selected protocol is reported', async () => {
    const offered: string[][] = [];
    const server = await startServer({
      handleProtocols: (protocols) => {
        offered.push([...protocols]);
        return protocols.has('chat.v2') ? 'chat.v2' : false;
      },
    });
    const attempts: number[] = [];
    const socket = createSocket(server.url, {
      protocols: async ({ attempt }) => {
        attempts.push(attempt);
        return ['chat.v2', 'chat.v1'];
      },
    });
    const open = await nextEvent(socket, 'open');
    expect(open).toEqual({ attempt: 0, protocol: 'chat.v2' });
    expect(socket.protocol).toBe('chat.v2');
    expect(offered).toEqual([['chat.v2', 'chat.v1']]);

    // Again on a retry.
    const reopened = nextEvent(socket, 'open');
    for (const ws of server.clients) ws.terminate();
    expect((await reopened).protocol).toBe('chat.v2');
    expect(attempts).toEqual([0, 1]);
  });

  it('a protocols provider may return a single string', async () => {
    const server = await startServer({ handleProtocols: (protocols) => (protocols.has('solo') ? 'solo' : false) });
    const socket = createSocket(server.url, { protocols: () => 'solo' });
    expect((await nextEvent(socket, 'open')).protocol).toBe('solo');
  });

  it('a headers provider reaches the upgrade request, fresh on every attempt', async () => {
    const seen: Array<string | undefined> = [];
    const server = await startServer({
      onConnection: (_ws, req) => {
        seen.push(req.headers['x-token'] as string | undefined);
      },
    });
    const socket = createSocket(server.url, {
      headers: async ({ attempt, signal }) => {
        expect(signal.aborted).toBe(false);
        await sleep(5);
        return { 'X-Token': `token-${attempt}`, Authorization: 'Bearer abc' };
      },
    });
    await nextEvent(socket, 'open');
    const reopened = nextEvent(socket, 'open');
    for (const ws of server.clients) ws.terminate();
    await reopened;
    expect(seen).toEqual(['token-0', 'token-1']);
  });

  it('static headers reach the upgrade request too', async () => {
    let authorization: string | undefined;
    const server = await startServer({ onConnection: (_ws, req) => (authorization = req.headers.authorization) });
    const socket = createSocket(server.url, { headers: { Authorization: 'Bearer static' } });
    await nextEvent(socket, 'open');
    expect(authorization).toBe('Bearer static');
  });

  it('a headers provider can refuse an attempt with a rejection; verifyClient never sees that attempt', async () => {
    let upgrades = 0;
    const server = await startServer({
      verifyClient: (info: { req: IncomingMessage }) => {
        upgrades++;
        return info.req.headers['x-token'] === 'good';
      },
    });
    const socket = createSocket(server.url, {
      headers: async ({ attempt }) => {
        if (attempt === 0) throw new Error('refresh failed');
        return { 'x-token': 'good' };
      },
    });
    const log = recordEvents(socket, ['error', 'close']);
    await nextEvent(socket, 'open');
    expect(upgrades).toBe(1);
    expect(log.of('error').map((event) => event.error.code)).toEqual(['PROVIDER_FAILED']);
    expect(log.of('close')[0]).toMatchObject({ cause: 'provider' });
  });
});
