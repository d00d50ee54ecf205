import { afterEach, describe, expect, it, vi } from 'vitest';
import { ReconnectingSocket, createManualEnvironment, type ReconnectingSocketOptions, type WebSocketConstructor } from '../../src/index.js';
import { FakeSocket, FakeWsSocket, createQuietSocket, flushMicrotasks, useFakeSockets } from '../helpers/fake-socket.js';
import { EVENT_TYPES } from '../helpers/servers.js';

// Regression: what an adversarial fuzz found (issue "Reliability"), one test per finding, through the public API
// with a scripted socket and fake timers.

type Options = ReconnectingSocketOptions<any, any>;
const created = useFakeSockets<ReconnectingSocket<any, any>>();

afterEach(() => vi.restoreAllMocks());

async function start(options: Options = {}, WebSocket: WebSocketConstructor = FakeWsSocket) {
  const { socket, env } = createQuietSocket(created, { connectTimeoutMs: 1000, closeTimeoutMs: 500, ...options }, WebSocket);
  const events: string[] = [];
  for (const type of EVENT_TYPES) socket.on(type, (event: any) => events.push(type === 'error' ? `error:${event.error.code}` : type === 'close' ? `close:${event.cause}` : type));
  await flushMicrotasks();
  return { socket, env, events };
}

async function startOpen(options: Options = {}, WebSocket: WebSocketConstructor = FakeWsSocket) {
  const started = await start(options, WebSocket);
  FakeSocket.latest().serverOpen();
  return { ...started, fake: FakeSocket.latest() as FakeWsSocket };
}

const onError = (socket: ReconnectingSocket<any, any>, code: string, fn: () => void) =>
  socket.on('error', ({ error }) => {
    if (error.code === code) fn();
  });

describe('1. a close that never ends: a deadline belongs to its wait, whatever listeners do', () => {
  it('connect() from a CLOSE_TIMEOUT listener: forced down at closeTimeoutMs, then connects again', async () => {
    const { socket, fake } = await startOpen();
    onError(socket, 'CLOSE_TIMEOUT', () => socket.connect());
    const closing = socket.close();
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(500);
    await flushMicrotasks();
    await expect(closing).resolves.toMatchObject({ cause: 'close-timeout' });
    expect(fake.terminateCalls).toBe(1);
    expect(socket.state).toBe('connecting');
    expect(FakeSocket.instances).toHaveLength(2);
    expect(vi.getTimerCount(), 'the new attempt owns its connect timeout').toBe(1);
  });

  it('close() from a CLOSE_TIMEOUT listener: forced down, closed for good, nothing left running', async () => {
    const { socket, fake } = await startOpen();
    onError(socket, 'CLOSE_TIMEOUT', () => void socket.close());
    const closing = socket.close();
    vi.advanceTimersByTime(500);
    await flushMicrotasks();
    await expect(closing).resolves.toMatchObject({ cause: 'close-timeout' });
    expect(fake.terminateCalls).toBe(1);
    expect(socket.state).toBe('closed');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('close() then connect() during the handshake, with a listener that closes on any error', async () => {
    const { socket, fake } = await startOpen();
    socket.on('error', () => void socket.close());
    const closing = socket.close();
    socket.connect();
    expect(socket.state).toBe('closing');
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(500);
    await flushMicrotasks();
    await expect(closing).resolves.toMatchObject({ cause: 'close-timeout' });
    expect(fake.terminateCalls).toBe(1);
    // connect() asked for a new attempt; the error listener's close() then ended it before anything opened.
    expect(socket.state).toBe('closed');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('the same during a pagehide close: the pageshow resume is bounded too', async () => {
    const { socket, env, fake } = await startOpen();
    socket.on('error', () => void socket.close());
    env.emit('pagehide');
    expect(socket.state).toBe('closing');
    socket.connect();
    vi.advanceTimersByTime(500);
    await flushMicrotasks();
    expect(fake.terminateCalls).toBe(1);
    expect(socket.state).toBe('closed');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('CONNECT_TIMEOUT and HEARTBEAT_TIMEOUT listeners that call close() or connect() leave a live deadline', async () => {
    const timeout = await start();
    onError(timeout.socket, 'CONNECT_TIMEOUT', () => timeout.socket.connect());
    vi.advanceTimersByTime(1000);
    await flushMicrotasks();
    expect(timeout.events).toContain('close:connect-timeout');
    // connect() during backoff starts the planned retry now, which owns its own connect timeout.
    expect(timeout.socket.state).toBe('connecting');
    expect(FakeSocket.instances).toHaveLength(2);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(1000);
    expect(timeout.events.filter((e) => e === 'close:connect-timeout')).toHaveLength(2);
    timeout.socket.dispose();

    FakeSocket.reset();
    const { socket, fake } = await startOpen({ heartbeat: { intervalMs: 100, timeoutMs: 50 } });
    onError(socket, 'HEARTBEAT_TIMEOUT', () => void socket.close());
    vi.advanceTimersByTime(150);
    await flushMicrotasks();
    expect(fake.terminateCalls).toBe(1);
    expect(socket.state).toBe('closed');
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('2. a timer that outlives dispose()', () => {
  for (const method of ['dispose', 'close'] as const) {
    it(`a heartbeat.message function that calls ${method}() leaves no timer behind`, async () => {
      let socketRef: ReconnectingSocket<any, any> | undefined;
      const message = () => {
        if (method === 'dispose') socketRef!.dispose();
        else void socketRef!.close();
        return 'ping';
      };
      const { socket, events } = await startOpen({ heartbeat: { intervalMs: 100, timeoutMs: 1000, message } }, FakeSocket);
      socketRef = socket;
      vi.advanceTimersByTime(100);
      await flushMicrotasks();
      if (method === 'close') {
        FakeSocket.latest().serverClose();
        await flushMicrotasks();
      }
      socket.dispose();
      expect(vi.getTimerCount()).toBe(0);
      const before = events.length;
      vi.advanceTimersByTime(5_000);
      expect(events.slice(before)).toEqual([]);
      expect(events).not.toContain('error:HEARTBEAT_TIMEOUT');
    });
  }
});

describe('3. send() re-entered from inside itself', () => {
  it('a drop listener (expired message) that disposes: the new message is reported once, as disposed', async () => {
    const { socket } = await start();
    const drops: Array<[unknown, string]> = [];
    socket.on('drop', ({ message, reason }) => {
      drops.push([message, reason]);
      if (reason === 'expired') socket.dispose();
    });
    expect(socket.send('old', { ttlMs: 10 })).toBe('queued');
    vi.advanceTimersByTime(20);
    expect(socket.send('new')).toBe('queued');
    expect(drops).toEqual([
      ['old', 'expired'],
      ['new', 'disposed'],
    ]);
    expect(socket.queued).toEqual([]);
    expect(socket.send('later')).toBe('disposed');
  });

  it('every evicted message gets its drop even when the first drop listener disposes', async () => {
    const { socket } = await start({ queue: { maxMessages: 3, maxBytes: 6 } });
    const drops: Array<[unknown, string]> = [];
    socket.on('drop', ({ message, reason }) => {
      drops.push([message, reason]);
      socket.dispose();
    });
    socket.send('aa');
    socket.send('bb');
    socket.send('cc');
    expect(socket.send('dddd')).toBe('queued');
    expect(drops).toEqual([
      ['aa', 'overflow'],
      ['bb', 'overflow'],
      ['cc', 'disposed'],
      ['dddd', 'disposed'],
    ]);
  });

  it('a drop listener that calls close(): the message is not left queued on a closed socket', async () => {
    const { socket } = await start();
    const drops: Array<[unknown, string]> = [];
    socket.on('drop', ({ message, reason }) => {
      drops.push([message, reason]);
      void socket.close();
    });
    socket.send('a', { ttlMs: 10 });
    vi.advanceTimersByTime(20);
    expect(socket.send('b')).toBe('queued');
    expect(drops).toEqual([
      ['a', 'expired'],
      ['b', 'closed'],
    ]);
    expect(socket.queued).toEqual([]);
    expect(socket.state).toBe('closed');
  });

  it('an encode() that disposes returns disposed, and one that closes returns closed; neither is dropped', async () => {
    let socketRef: ReconnectingSocket<any, any> | undefined;
    let action: 'dispose' | 'close' = 'close';
    const codec = {
      encode: (message: unknown) => {
        if (action === 'dispose') socketRef!.dispose();
        else void socketRef!.close();
        return String(message);
      },
      decode: (data: unknown) => data,
    };
    const { socket, events } = await start({ codec });
    socketRef = socket;
    expect(socket.send('x')).toBe('closed');
    action = 'dispose';
    socket.connect();
    await flushMicrotasks();
    expect(socket.send('y')).toBe('disposed');
    expect(events.filter((e) => e === 'drop')).toEqual([]);
  });
});

describe('4. one close event per attempt that started', () => {
  for (const method of ['close', 'reconnect', 'dispose'] as const) {
    it(`${method}() right after new (before the first attempt starts) emits no close event`, async () => {
      const urls: string[] = [];
      const socket = new ReconnectingSocket<any, any>(() => (urls.push('called'), 'ws://example.test/feed'), {
        WebSocket: FakeSocket,
        environment: createManualEnvironment(),
        heartbeat: false,
      });
      created.push(socket);
      const closes: unknown[] = [];
      socket.on('close', (event) => closes.push(event));
      if (method === 'close') void socket.close();
      else if (method === 'reconnect') socket.reconnect();
      else socket.dispose();
      await flushMicrotasks();
      socket.dispose();
      expect(closes).toHaveLength(urls.length);
      expect(closes).toHaveLength(method === 'reconnect' ? 1 : 0);
    });
  }

  it('dispose() from a state listener as a retry enters connecting: one close per attempt that started, nothing left', async () => {
    const { socket, events } = await startOpen();
    FakeSocket.latest().serverDrop();
    await flushMicrotasks();
    socket.on('state', ({ to }) => to === 'connecting' && socket.dispose());
    vi.advanceTimersByTime(1000);
    await flushMicrotasks();
    // The retry had started (its socket made) before the listener heard of it: its attempt ends with a close too.
    expect(FakeSocket.instances).toHaveLength(2);
    expect(events.filter((e) => e.startsWith('close:'))).toEqual(['close:network', 'close:dispose']);
    expect(FakeSocket.instances.every((s) => s.readyState >= 2)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('5. an environment callback that throws', () => {
  for (const which of ['isOnline', 'isHidden'] as const) {
    it(`${which}() that throws is reported as CALLBACK_THREW and the default is used`, async () => {
      const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
      const env = createManualEnvironment();
      env[which] = () => {
        throw new Error('no window here');
      };
      const { socket, events } = await start({ environment: env, pauseWhenHidden: true });
      FakeSocket.latest().serverDrop();
      await flushMicrotasks();
      expect(events).toContain('error:CALLBACK_THREW');
      expect(socket.retry, 'the default: online and visible, so the retry is not held').toMatchObject({ attempt: 1 });
      expect(socket.retry?.hold).toBeUndefined();
      socket.dispose();
      expect(socket.state).toBe('closed');
      expect(vi.getTimerCount()).toBe(0);
      expect(consoleError).not.toHaveBeenCalled();
    });
  }

  it('subscribe() that throws is reported and the socket runs without signals', async () => {
    const env = {
      subscribe: () => {
        throw new Error('broken environment');
      },
    };
    const { socket, events } = await start({ environment: env });
    await flushMicrotasks();
    expect(events).toContain('error:CALLBACK_THREW');
    FakeSocket.latest().serverOpen();
    expect(socket.state).toBe('open');
  });
});

describe('6. protocol errors the client detects end the connection with their code', () => {
  function wsError(code: string, status?: number): Error {
    const error = Object.assign(new Error(`invalid frame (${code})`), { code });
    if (status !== undefined) (error as any)[Symbol('status-code')] = status;
    return error;
  }

  for (const [wsCode, status] of [
    ['WS_ERR_UNEXPECTED_RSV_1', 1002],
    ['WS_ERR_INVALID_UTF8', 1007],
    ['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 1009],
  ] as const) {
    for (const withSymbol of [true, false]) {
      it(`${wsCode}${withSymbol ? '' : ' (without the status symbol)'} closes with ${status}, cause protocol, and does not reconnect`, async () => {
        const { socket, events, fake } = await startOpen();
        (fake as any).emit('error', wsError(wsCode, withSymbol ? status : undefined));
        await flushMicrotasks();
        expect(socket.lastClose).toMatchObject({ code: status, cause: 'protocol', wasClean: false, error: { code: 'SOCKET_ERROR' } });
        expect(socket.state).toBe('closed');
        expect(socket.retry).toBeUndefined();
        expect(fake.terminateCalls).toBe(1);
        expect(events.filter((e) => e.startsWith('close:'))).toEqual(['close:protocol']);
        await expect(socket.closed).resolves.toMatchObject({ code: status });
      });
    }
  }

  it('an ordinary socket error is still network trouble', async () => {
    const { socket, fake } = await startOpen();
    fake.serverDrop();
    expect(socket.lastClose).toMatchObject({ code: 1006, cause: 'network' });
    expect(socket.retry).toBeDefined();
  });
});

describe('8. errors nobody listens to are said once', () => {
  it('the first unhandled error of a socket goes to console.warn once, with how to handle it', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const { socket } = createQuietSocket(created, { initialDelayMs: 10 });
    for (let i = 0; i < 3; i++) {
      await flushMicrotasks();
      FakeSocket.latest().serverDrop();
      vi.advanceTimersByTime(1_000);
    }
    expect(FakeSocket.instances.length).toBeGreaterThanOrEqual(3);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/SOCKET_ERROR.*on\("error"\).*debug/);
    socket.dispose();
  });

  it('says nothing when an error listener or a debug hook exists', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const debug = vi.fn();
    createQuietSocket(created, { debug });
    const { socket } = createQuietSocket(created);
    socket.on('error', () => {});
    await flushMicrotasks();
    for (const fake of FakeSocket.instances) fake.serverDrop();
    expect(warn).not.toHaveBeenCalled();
    expect(debug).toHaveBeenCalled();
  });
});

describe('review: the backlog and what open listeners ask for', () => {
  it('reconnect() from an open listener: the backlog is not sent into the dropped connection but on the next open', async () => {
    const { socket } = await start();
    let isFirst = true;
    socket.on('open', () => {
      if (isFirst) socket.reconnect();
      isFirst = false;
    });
    socket.send('backlog');
    const first = FakeSocket.latest();
    first.serverOpen();
    expect(first.sent).toEqual([]);
    await flushMicrotasks();
    const second = FakeSocket.latest();
    expect(second).not.toBe(first);
    second.serverOpen();
    expect(second.sent).toEqual(['backlog']);
  });

  it('an open listener whose call is ignored (connect()) does not hold the backlog back', async () => {
    const { socket } = await start();
    socket.on('open', () => socket.connect());
    socket.send('backlog');
    FakeSocket.latest().serverOpen();
    expect(FakeSocket.latest().sent).toEqual(['backlog']);
  });

  it('a url provider that disposes the socket: no WebSocket is created', async () => {
    let socketRef: ReconnectingSocket<any, any> | undefined;
    const socket = new ReconnectingSocket<any, any>(
      () => {
        socketRef?.dispose();
        return 'ws://example.test/feed';
      },
      { WebSocket: FakeSocket, environment: createManualEnvironment(), heartbeat: false },
    );
    socketRef = socket;
    created.push(socket);
    await flushMicrotasks();
    expect(FakeSocket.instances).toHaveLength(0);
    expect(socket.state).toBe('closed');
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('a held retry is announced (hold event), so a UI need not poll retry.hold', () => {
  it('offline: hold { attempt, hold: offline } after the close, then reconnecting-free resume when online', async () => {
    const { socket, env, events } = await startOpen();
    const holds: unknown[] = [];
    socket.on('hold', (event) => holds.push(event));
    env.emit('offline');
    FakeSocket.latest().serverDrop();
    await flushMicrotasks();
    expect(holds).toEqual([{ attempt: 1, hold: 'offline' }]);
    expect(events.filter((e) => e === 'reconnecting')).toEqual([]);
    env.emit('online');
    expect(socket.state).toBe('connecting');
    expect(holds).toHaveLength(1);
  });

  it('a retry waiting in backoff that goes offline is announced as held too', async () => {
    const { socket, env } = await startOpen();
    const holds: unknown[] = [];
    socket.on('hold', (event) => holds.push(event));
    FakeSocket.latest().serverDrop();
    env.emit('offline');
    expect(holds).toEqual([{ attempt: 1, hold: 'offline' }]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
