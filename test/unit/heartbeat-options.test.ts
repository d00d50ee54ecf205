import { describe, expect, it, vi } from 'vitest';
import { ReconnectingSocket, createManualEnvironment, type HeartbeatOptions, type WebSocketConstructor } from '../../src/index.js';
import { FakeSocket, FakeWsSocket, flushMicrotasks, useFakeSockets } from '../helpers/fake-socket.js';

// The heartbeat options as documented on HeartbeatOptions, each with the behaviour its TSDoc promises.

type Socket = ReconnectingSocket<any, any>;

const created = useFakeSockets<Socket>();

async function opened(heartbeat: HeartbeatOptions, WebSocket: WebSocketConstructor = FakeSocket) {
  const socket = new ReconnectingSocket<any, any>('ws://example.test/feed', {
    WebSocket,
    environment: createManualEnvironment(),
    heartbeat,
    jitter: false,
  });
  created.push(socket);
  const messages: unknown[] = [];
  const closes: Array<{ cause: string }> = [];
  const rtts: number[] = [];
  socket.on('message', ({ data }) => messages.push(data));
  socket.on('close', (close) => closes.push(close));
  socket.on('heartbeat', ({ rttMs }) => rtts.push(rttMs));
  await flushMicrotasks();
  const fake = FakeSocket.latest();
  fake.serverOpen();
  expect(socket.state).toBe('open');
  return { socket, fake, messages, closes, rtts };
}

describe('heartbeat.anyMessageIsAlive: false', () => {
  it('an ordinary message does not satisfy the pending deadline: only the pong does', async () => {
    const { socket, fake, messages, closes } = await opened({ intervalMs: 1000, timeoutMs: 500, anyMessageIsAlive: false }, FakeWsSocket);
    vi.advanceTimersByTime(1000);
    expect((fake as FakeWsSocket).pings).toHaveLength(1);
    vi.advanceTimersByTime(200);
    fake.serverMessage('data, not a pong');
    expect(messages).toEqual(['data, not a pong']);
    vi.advanceTimersByTime(299);
    expect(socket.state).toBe('open');
    vi.advanceTimersByTime(1);
    expect(closes).toMatchObject([{ cause: 'heartbeat-timeout' }]);
  });

  it('control: the pong itself still satisfies it', async () => {
    const { socket, fake, closes, rtts } = await opened({ intervalMs: 1000, timeoutMs: 500, anyMessageIsAlive: false }, FakeWsSocket);
    vi.advanceTimersByTime(1200);
    (fake as FakeWsSocket).serverPong();
    expect(rtts).toEqual([200]);
    vi.advanceTimersByTime(400);
    expect(socket.state).toBe('open');
    expect(closes).toEqual([]);
  });
});

describe('heartbeat.message without isPong', () => {
  it('every incoming message counts as the pong, and is still delivered as a message', async () => {
    const { socket, fake, messages, closes, rtts } = await opened({ intervalMs: 1000, timeoutMs: 500, message: 'ping' });
    vi.advanceTimersByTime(1000);
    expect(fake.sent).toEqual(['ping']);
    vi.advanceTimersByTime(30);
    fake.serverMessage('hello');
    expect(messages).toEqual(['hello']);
    expect(rtts).toEqual([30]);
    vi.advanceTimersByTime(600);
    expect(socket.state).toBe('open');
    expect(closes).toEqual([]);
  });
});

describe('probe() while a regular ping is outstanding', () => {
  it('shortens the deadline to probeTimeoutMs: a dead connection is found without waiting out timeoutMs', async () => {
    const { socket, fake, closes } = await opened({ intervalMs: 1000, timeoutMs: 5000, probeTimeoutMs: 200 }, FakeWsSocket);
    const ws = fake as FakeWsSocket;
    vi.advanceTimersByTime(1000);
    expect(ws.pings).toHaveLength(1);
    socket.probe();
    expect(ws.pings).toHaveLength(2);
    vi.advanceTimersByTime(199);
    expect(socket.state).toBe('open');
    vi.advanceTimersByTime(1);
    expect(closes).toMatchObject([{ cause: 'heartbeat-timeout' }]);
  });

  it('a probe with a longer deadline than the outstanding one changes nothing', async () => {
    const { socket, fake, closes } = await opened({ intervalMs: 1000, timeoutMs: 300, probeTimeoutMs: 200 }, FakeWsSocket);
    const ws = fake as FakeWsSocket;
    vi.advanceTimersByTime(1000);
    socket.probe(2000);
    expect(ws.pings).toHaveLength(1);
    vi.advanceTimersByTime(300);
    expect(closes).toMatchObject([{ cause: 'heartbeat-timeout' }]);
  });
});
