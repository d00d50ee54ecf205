/**
 * Differential tests: each scenario runs on loopback against the original (reconnecting-websocket 4.4 or
 * partysocket) and against our class of the same flavour, with `ws` and with a WHATWG-style socket that fires
 * `error` without `close`; what a user observes (events, their order, the values read inside the listeners,
 * close codes, wasClean) must be the same. Scenarios where an original hangs or crashes are in fixes.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { closedPort } from '../helpers/chaos-servers.js';
import { startRecordingServer, startServer, startStallServer } from '../helpers/servers.js';
import { compare, count, observe, PAIRS, QUICK, sleep, snapshot, SOCKET_KINDS, until } from './differential.js';

describe.each(PAIRS)('$flavour: the same as the original', ({ flavour, theirs, ours }) => {
  const isParty = flavour === 'partysocket';

  describe.each(SOCKET_KINDS)('with $kind', ({ kind, WebSocket }) => {
    const isWs = kind === 'ws';

    it('values right after construction, and after startClosed', async () => {
      await compare(theirs, ours, WebSocket, async (Class, WebSocket, log) => {
        const port = await closedPort();
        const socket = new Class(`ws://127.0.0.1:${port}/a`, undefined, { ...QUICK, WebSocket, startClosed: true });
        log.push({ ...snapshot(socket, 'startClosed'), bufferedAmount: socket.bufferedAmount, protocol: socket.protocol, extensions: socket.extensions });
        socket.close();
        log.push(snapshot(socket, 'closed'));
        const server = await startServer();
        const live = new Class(`${server.url}/b`, undefined, { ...QUICK, WebSocket });
        log.push({ ...snapshot(live, 'constructed'), bufferedAmount: live.bufferedAmount, protocol: live.protocol });
        observe(live, log);
        await until(() => count(log, 'open') === 1, log);
        live.close();
        await until(() => count(log, 'close') === 1, log);
      });
    });

    it('a refused connection: each failure is a clean close (1000) then the error, with the retry counted, up to maxRetries', async () => {
      const log = await compare(theirs, ours, WebSocket, async (Class, WebSocket, log) => {
        const port = await closedPort();
        const socket = new Class(`ws://127.0.0.1:${port}/refused`, undefined, { ...QUICK, WebSocket, maxRetries: 2 });
        observe(socket, log);
        try {
          await until(() => count(log, 'error') === 3, log);
          await sleep(150);
          log.push(snapshot(socket, 'after'));
        } finally {
          socket.close();
        }
      });
      expect(log.filter((seen) => seen.what === 'error').map((seen) => seen.retryCount)).toEqual([1, 2, 2]);
      if (isWs) expect(log.filter((seen) => seen.what !== 'after').every((seen) => seen.readyState === 2)).toBe(true);
    });

    it('open, message, a server close (4001), the retry, open again, then close()', async () => {
      await compare(theirs, ours, WebSocket, async (Class, WebSocket, log) => {
        let connections = 0;
        const server = await startServer({
          echo: false,
          onConnection: (ws) => {
            connections++;
            ws.send(`hello ${connections}`);
            if (connections === 1) setTimeout(() => ws.close(4001, 'bye'), 20);
          },
        });
        const socket = new Class(`${server.url}/room`, undefined, { ...QUICK, WebSocket });
        observe(socket, log);
        await until(() => count(log, 'message') === 2 && count(log, 'open') === 2, log);
        socket.close(4000, 'done');
        log.push(snapshot(socket, 'after close()'));
        await until(() => count(log, 'close') === 2 && server.closeFrames.length === 2, log);
        return [...server.closeFrames];
      });
    });

    it('messages sent before open go out first, in order, then those sent from the open listener', async () => {
      await compare(theirs, ours, WebSocket, async (Class, WebSocket, log) => {
        const server = await startRecordingServer();
        const socket = new Class(server.url, undefined, { ...QUICK, WebSocket });
        const results = [socket.send('a'), socket.send('b')];
        log.push({ ...snapshot(socket, 'queued'), bufferedAmount: socket.bufferedAmount });
        socket.addEventListener('open', () => results.push(socket.send('c')));
        observe(socket, log);
        await until(() => server.received[0]?.length === 3, log);
        socket.close();
        await until(() => count(log, 'close') === 1, log);
        return { received: server.received, results };
      });
    });

    it('close() then reconnect(): one close event, then a new connection', async () => {
      await compare(theirs, ours, WebSocket, async (Class, WebSocket, log) => {
        const server = await startServer();
        const socket = new Class(server.url, undefined, { ...QUICK, WebSocket });
        observe(socket, log);
        await until(() => count(log, 'open') === 1, log);
        socket.close();
        socket.reconnect();
        log.push(snapshot(socket, 'after reconnect()'));
        await until(() => count(log, 'open') === 2, log);
        await sleep(100);
        socket.close();
        await until(() => count(log, 'close') === 2, log);
      });
    });

    it('reconnect(code, reason) while open: a synthetic close with them, then a new connection', async () => {
      await compare(theirs, ours, WebSocket, async (Class, WebSocket, log) => {
        const server = await startServer();
        const socket = new Class(server.url, undefined, { ...QUICK, WebSocket });
        observe(socket, log);
        await until(() => count(log, 'open') === 1, log);
        socket.reconnect(4000, 'again');
        log.push(snapshot(socket, 'after reconnect()'));
        await until(() => count(log, 'open') === 2, log);
        socket.close();
        await until(() => count(log, 'close') === 2, log);
        await until(() => server.closeFrames.length === 2, log);
        return [...server.closeFrames];
      });
    });

    it('startClosed, then reconnect()', async () => {
      await compare(theirs, ours, WebSocket, async (Class, WebSocket, log) => {
        const server = await startServer();
        const socket = new Class(server.url, undefined, { ...QUICK, WebSocket, startClosed: true });
        observe(socket, log);
        await sleep(50);
        log.push(snapshot(socket, 'before'));
        socket.reconnect();
        log.push(snapshot(socket, 'after reconnect()'));
        await until(() => count(log, 'open') === 1, log);
        socket.close();
        await until(() => count(log, 'close') === 1, log);
        return server.connections;
      });
    });

    it('binaryType: set before the socket exists, mirrored by it, and changed while open', async () => {
      await compare(theirs, ours, WebSocket, async (Class, WebSocket, log) => {
        const server = await startServer({ echo: false, onConnection: (ws) => ws.on('message', (data) => ws.send(Buffer.from(String(data)), { binary: true })) });
        const socket = new Class(server.url, undefined, { ...QUICK, WebSocket });
        socket.binaryType = 'arraybuffer';
        log.push(snapshot(socket, 'set'));
        observe(socket, log);
        socket.send('one');
        await until(() => count(log, 'message') === 1, log);
        socket.binaryType = 'blob';
        socket.send('two');
        await until(() => count(log, 'message') === 2, log);
        socket.close();
        await until(() => count(log, 'close') === 1, log);
      });
    });

    it('on* handlers run before the listeners, and see the same values', async () => {
      await compare(theirs, ours, WebSocket, async (Class, WebSocket, log) => {
        const server = await startServer({ onConnection: (ws) => setTimeout(() => ws.close(4002, 'handlers'), 20) });
        const socket = new Class(server.url, undefined, { ...QUICK, WebSocket, maxRetries: 0 });
        observe(socket, log);
        socket.onopen = () => log.push(snapshot(socket, 'onopen'));
        socket.onclose = (event: any) => log.push({ ...snapshot(socket, 'onclose'), code: event.code, reason: event.reason });
        await until(() => count(log, 'close') === 1, log);
        await sleep(100);
        log.push(snapshot(socket, 'after'));
      });
    });

    it('a connection timeout: close (1000, "timeout") then error "TIMEOUT", and the retry', async (context) => {
      // reconnecting-websocket with ws crashes the process here (see fixes.test.ts).
      if (!isParty && isWs) return context.skip();
      await compare(theirs, ours, WebSocket, async (Class, WebSocket, log) => {
        const stall = await startStallServer();
        const socket = new Class(stall.url, undefined, { ...QUICK, WebSocket, connectionTimeout: 100, maxRetries: 1 });
        observe(socket, log);
        try {
          await until(() => count(log, 'error') === 2, log);
          await sleep(150);
        } finally {
          socket.close();
        }
      });
    });

    it('debug: ("RWS>", "connect", retryCount) as each attempt starts', async () => {
      await compare(theirs, ours, WebSocket, async (Class, WebSocket, log) => {
        const port = await closedPort();
        const lines: unknown[][] = [];
        const original = console.log;
        // reconnecting-websocket logs to console.log; partysocket to debugLogger.
        console.log = (...args: unknown[]) => lines.push(args);
        try {
          const socket = new Class(`ws://127.0.0.1:${port}`, undefined, { ...QUICK, WebSocket, maxRetries: 2, debug: true, debugLogger: (...args: unknown[]) => lines.push(args) });
          observe(socket, log);
          await until(() => count(log, 'error') === 3, log);
          socket.close();
        } finally {
          console.log = original;
        }
        return lines.filter((line) => line[0] === 'RWS>' && line[1] === 'connect' && typeof line[2] === 'number').map((line) => line[2]);
      });
    });

    if (isParty) {
      it('shouldReconnectOnClose declines: shouldReconnect is false inside that close listener, true again after reconnect()', async () => {
        await compare(theirs, ours, WebSocket, async (Class, WebSocket, log) => {
          const server = await startServer({ onConnection: (ws) => setTimeout(() => ws.close(4003, 'go away'), 20) });
          const decided: unknown[] = [];
          const socket = new Class(server.url, undefined, {
            ...QUICK,
            WebSocket,
            shouldReconnectOnClose: (event: any) => {
              decided.push([event.code, event.reason]);
              return event.code !== 4003;
            },
          });
          observe(socket, log);
          await until(() => count(log, 'close') === 1, log);
          await sleep(100);
          log.push(snapshot(socket, 'later'));
          socket.reconnect();
          log.push(snapshot(socket, 'after reconnect()'));
          await until(() => count(log, 'open') === 2, log);
          socket.close();
          return [...decided];
        });
      });

      it('send() after close() warns once with partysocket\'s wording, and again after reconnect() and close()', async () => {
        await compare(theirs, ours, WebSocket, async (Class, WebSocket, log) => {
          const server = await startServer();
          const warnings: unknown[] = [];
          const original = console.warn;
          console.warn = (...args: unknown[]) => warnings.push(String(args[0]).includes('send() was called after close()'));
          try {
            const socket = new Class(server.url, undefined, { ...QUICK, WebSocket });
            observe(socket, log);
            await until(() => count(log, 'open') === 1, log);
            socket.close();
            log.push({ ...snapshot(socket, 'send after close'), sent: socket.send('x') });
            socket.send('y');
            socket.reconnect();
            await until(() => count(log, 'open') === 2 && count(log, 'message') === 2, log);
            socket.close();
            socket.send('z');
          } finally {
            console.warn = original;
          }
          return warnings;
        });
      });
    }
  });
});
