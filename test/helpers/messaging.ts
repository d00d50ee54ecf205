import { afterAll, beforeAll, expect } from 'vitest';
import { startFaultProxy, type FaultProxy } from './proxy.js';
import { startServer, waitFor, WebSocket, type StartServerOptions, type TestServer } from './servers.js';

/** Sends `data` from the server to every connected client. */
export function broadcast(server: TestServer, data: string | Buffer, binary = false): void {
  for (const ws of server.clients) if (ws.readyState === WebSocket.OPEN) ws.send(data, { binary });
}

/** A real `ws` server behind a fault proxy, so a test can cut the network and restore it. */
export interface FlakyServer {
  readonly server: TestServer;
  readonly proxy: FaultProxy;
  /** The proxy's URL: connect here. */
  readonly url: string;
  /** Text messages the server received, one list per accepted connection, in connection order. */
  readonly perConnection: string[][];
  /** Resets every connection (TCP RST) and refuses new ones until `restore()`. */
  cut(): void;
  /** Accepts connections again. */
  restore(): void;
}

/** Starts a `FlakyServer` for the current test (both parts are torn down after it). */
export async function startFlakyServer(options: StartServerOptions = {}): Promise<FlakyServer> {
  const perConnection: string[][] = [];
  const server = await startServer({
    ...options,
    onConnection(ws, req) {
      const messages: string[] = [];
      perConnection.push(messages);
      ws.on('message', (data, isBinary) => {
        if (!isBinary) messages.push(data.toString());
      });
      options.onConnection?.(ws, req);
    },
  });
  const proxy = await startFaultProxy(server.port);
  return {
    server,
    proxy,
    url: proxy.url,
    perConnection,
    cut() {
      proxy.refuse(true);
      proxy.reset();
    },
    restore() {
      proxy.refuse(false);
    },
  };
}

/** Waits until the server has received `count` text messages, then a little longer to catch duplicates. */
export async function receivedExactly(server: TestServer, count: number, settleMs = 150): Promise<unknown[]> {
  await waitFor(() => server.received.length >= count, 5_000, `the server to receive ${count} messages (got ${server.received.length})`);
  await new Promise((resolve) => setTimeout(resolve, settleMs));
  return server.received;
}

/**
 * Collects every unhandled promise rejection while the calling test file runs and asserts, after all its
 * tests, that there was none. Call it once at the top level of a test file. Tests may also look at `list`.
 */
export function trackUnhandledRejections(): { readonly list: unknown[] } {
  const list: unknown[] = [];
  const onRejection = (reason: unknown) => {
    list.push(reason);
  };
  beforeAll(() => {
    process.on('unhandledRejection', onRejection);
  });
  afterAll(() => {
    process.off('unhandledRejection', onRejection);
    expect(list, 'unhandled rejections during this file').toEqual([]);
  });
  return { list };
}
