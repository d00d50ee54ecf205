import { afterEach, describe, expect, it } from 'vitest';
import { ResumableSocket } from '../../src/resume/index.js';
import type { ResumeSession } from '../../src/server/index.js';
import { SharedSocket, type LeaderSocketClass, type SharedSocketEvents } from '../../src/shared/index.js';
import { startFaultProxy } from '../helpers/proxy.js';
import { startResumeServer, until, type ResumeTestServer } from '../helpers/resume.js';
import { FAST } from '../helpers/socket.js';
import { Tabs, type Tab } from './fake-tabs.js';

// SharedSocket with `Socket: ResumableSocket`, on fake tabs (test/shared/fake-tabs.ts) and a real resume server
// (src/server) on loopback: the leader's connection resumes when the leadership moves, and every tab keeps the
// resume entry's promises. Both sides stream while the leader closes, goes into the back-forward cache or crashes.

type Drop = SharedSocketEvents<string, string>['drop'];
type Open = SharedSocketEvents<string, string>['open'];

/** One tab's handle and what it saw. */
interface Handle {
  readonly name: string;
  readonly tab: Tab;
  readonly socket: SharedSocket<string, string>;
  /** send() results, by message. */
  readonly sent: Map<string, string>;
  readonly delivered: string[];
  readonly drops: Drop[];
  readonly received: string[];
  readonly opens: Open[];
}

let handles: Handle[] = [];
afterEach(() => {
  for (const { socket } of handles) socket.dispose();
  handles = [];
});

function open(tab: Tab, name: string, server: Pick<ResumeTestServer, 'url'>, Socket: LeaderSocketClass = ResumableSocket): Handle {
  const socket = new SharedSocket<string, string>(server.url, {
    ...FAST,
    environment: null,
    debug: () => {},
    coordination: tab.coordination,
    Socket,
    resume: { ackDelayMs: 10 },
  });
  const handle: Handle = { name, tab, socket, sent: new Map(), delivered: [], drops: [], received: [], opens: [] };
  socket.on('delivered', ({ message }) => handle.delivered.push(message));
  socket.on('drop', (event) => handle.drops.push(event));
  socket.on('message', ({ data }) => handle.received.push(String(data)));
  socket.on('open', (event) => handle.opens.push(event));
  socket.on('error', () => {});
  handles.push(handle);
  return handle;
}

/** A server that records what each session received and can stream to the session of the moment. */
async function streamingServer() {
  const got: string[] = [];
  const server = await startResumeServer({ ackDelayMs: 10, onSession: (session) => session.on('message', ({ data }) => got.push(data.toString())) });
  const current = (): ResumeSession | undefined => [...server.sessions].reverse().find((session) => !session.isEnded);
  let count = 0;
  /** Sends the next numbered server message to the current session. */
  const push = () => current()?.send(`s${count++}`);
  return { server, got, push, current, sent: () => count };
}

/** Each tab sends `n` numbered messages, and the server pushes `n`, interleaved, with a pause every few. */
async function stream(server: Awaited<ReturnType<typeof streamingServer>>, senders: Handle[], n: number, from = 0) {
  for (let i = from; i < from + n; i++) {
    for (const handle of senders) {
      const message = `${handle.name}-${i}`;
      handle.sent.set(message, handle.socket.send(message));
    }
    server.push();
    if (i % 5 === 4) await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Every message a handle's send() accepted ended in exactly one `delivered` or one `drop`, and reached the server at most once (once if delivered). */
function expectSettled(handle: Handle, got: string[], { mayDrop }: { mayDrop: boolean }) {
  for (const [message, result] of handle.sent) {
    expect(['sent', 'queued'], `${message}: send() said ${result}`).toContain(result);
    const delivered = handle.delivered.filter((m) => m === message).length;
    const drops = handle.drops.filter((d) => d.message === message);
    const copies = got.filter((m) => m === message).length;
    expect(delivered + drops.length, `${message}: delivered ${delivered}, dropped ${drops.length}`).toBe(1);
    expect(copies, `${message} reached the server ${copies} times`).toBeLessThanOrEqual(1);
    if (delivered) expect(copies, `${message} was delivered`).toBe(1);
    if (drops[0] && !drops[0].wasSent) expect(copies, `${message} was dropped unsent`).toBe(0);
    if (!mayDrop) expect(drops, `${message} was dropped`).toEqual([]);
  }
  // Per tab, the server got the messages in the order they were sent.
  const order = got.filter((m) => m.startsWith(`${handle.name}-`)).map((m) => Number(m.split('-')[1]));
  expect(order, `${handle.name}'s messages in order`).toEqual([...order].sort((a, b) => a - b));
}

/** The server messages a handle got: each once, in the order they were sent, none missing from `first` on. */
function expectReceivedInOrder(handle: Handle, upTo: number, first = 0) {
  const numbers = handle.received.map((m) => Number(m.slice(1)));
  expect(numbers, `${handle.name} got the server's messages once each, in order`).toEqual(Array.from({ length: upTo - first }, (_, i) => first + i));
}

describe('SharedSocket with Socket: ResumableSocket (loopback, fake tabs)', () => {
  it('a follower sends through the leader: one `delivered` in the tab that sent it, the server gets it once', async () => {
    const server = await streamingServer();
    const tabs = new Tabs();
    const a = open(tabs.open(), 'a', server.server);
    await until(() => a.socket.state === 'open', 'the leader open');
    const b = open(tabs.open(), 'b', server.server);
    await until(() => b.socket.state === 'open', 'the follower open');
    expect([a.socket.isLeader, b.socket.isLeader]).toEqual([true, false]);
    expect(a.opens[0]).toMatchObject({ recovered: false, resume: 'new', missed: 0 });
    await stream(server, [a, b], 10);
    await until(() => a.delivered.length === 10 && b.delivered.length === 10, 'every delivered');
    await until(() => a.received.length === 10 && b.received.length === 10, 'every server message');
    for (const handle of [a, b]) {
      expectSettled(handle, server.got, { mayDrop: false });
      expectReceivedInOrder(handle, 10);
    }
  });

  for (const how of ['close', 'dispose', 'pagehide'] as const) {
    it(`the leader leaves by ${how}() mid-stream: the next leader resumes the session, nothing lost, nothing twice`, async () => {
      const server = await streamingServer();
      const tabs = new Tabs();
      const a = open(tabs.open(), 'a', server.server);
      await until(() => a.socket.state === 'open', 'the leader open');
      const [b, c] = [open(tabs.open(), 'b', server.server), open(tabs.open(), 'c', server.server)];
      await until(() => b.socket.state === 'open' && c.socket.state === 'open', 'the followers open');
      await stream(server, [a, b, c], 20);
      // Mid-stream: messages of every tab unacknowledged, server messages on their way.
      if (how === 'pagehide') a.tab.pagehide(true);
      else if (how === 'close') void a.socket.close();
      else a.socket.dispose();
      await stream(server, [b, c], 20, 20);
      await until(() => b.socket.isLeader || c.socket.isLeader, 'a new leader');
      await until(() => b.socket.state === 'open' && c.socket.state === 'open', 'the connection open again');
      await stream(server, [b, c], 20, 40);
      const settled = (h: Handle) => h.delivered.length + h.drops.length === h.sent.size;
      await until(() => settled(b) && settled(c) && (how !== 'pagehide' || settled(a)), 'every message settled', 15_000, () => [a, b, c].map((h) => [h.sent.size, h.delivered.length, h.drops.length]));
      await until(() => b.received.length === 60 && c.received.length === 60, 'every server message', 15_000, () => [b.received.length, c.received.length]);

      // One session all along: the server saw a resume.
      expect(server.server.sessions).toHaveLength(1);
      expect(server.server.sessions[0]!.recovered).toBe(true);
      for (const handle of [b, c]) {
        expect(handle.opens.at(-1), `${handle.name}'s last open`).toMatchObject({ recovered: true, resume: 'resumed', missed: 0 });
        expectSettled(handle, server.got, { mayDrop: false });
        expectReceivedInOrder(handle, 60);
      }
      // The tab that left: on pagehide its messages stay in the session and are delivered (it still hears of them);
      // on close and dispose each is dropped once (`wasSent` if it had been written) or, never, both.
      expectSettled(a, server.got, { mayDrop: how !== 'pagehide' });
      if (how !== 'pagehide') for (const drop of a.drops) expect(drop.reason).toBe(how === 'close' ? 'closed' : 'disposed');
    });
  }

  it('messages still unwritten when the leader leaves (its connection down) go back to their tab and out through the next leader, same session', async () => {
    const server = await streamingServer();
    const proxy = await startFaultProxy(server.server.port);
    const tabs = new Tabs();
    const a = open(tabs.open(), 'a', proxy);
    await until(() => a.socket.state === 'open', 'the leader open');
    const b = open(tabs.open(), 'b', proxy);
    await until(() => b.socket.state === 'open', 'the follower open');
    await stream(server, [a, b], 2);
    await until(() => a.delivered.length === 2 && b.delivered.length === 2, 'the first ones delivered');
    proxy.refuse(true);
    proxy.reset();
    await until(() => a.socket.state !== 'open' && b.socket.state !== 'open', 'the connection down');
    await stream(server, [a, b], 3, 2);
    await new Promise((resolve) => setTimeout(resolve, 50));
    void a.socket.close();
    await until(() => b.socket.isLeader, 'b leading');
    proxy.refuse(false);
    await until(() => b.delivered.length === 5, 'b delivered', 15_000, () => [b.delivered, b.drops]);
    expect(b.opens.at(-1)).toMatchObject({ recovered: true, resume: 'resumed' });
    expect(server.server.sessions).toHaveLength(1);
    expectSettled(b, server.got, { mayDrop: false });
    // The leaving tab's unwritten messages: dropped, never sent.
    expect(a.drops.map(({ message, reason, wasSent }) => [message, reason, wasSent])).toEqual([
      ['a-2', 'closed', false],
      ['a-3', 'closed', false],
      ['a-4', 'closed', false],
    ]);
    expectSettled(a, server.got, { mayDrop: true });
  });

  it("a follower hears the next leader only after the old one's last words, however slow they are to reach it", async () => {
    const server = await streamingServer();
    const tabs = new Tabs();
    const a = open(tabs.open(), 'a', server.server);
    await until(() => a.socket.state === 'open', 'the leader open');
    const [b, c] = [open(tabs.open(), 'b', server.server), open(tabs.open(), 'c', server.server)];
    await until(() => b.socket.state === 'open' && c.socket.state === 'open', 'the followers open');
    // What a says reaches c late: b's announcement, its events and its acknowledgements overtake a's last words.
    tabs.delayMs = (from, to) => (from === a.tab && to === c.tab ? 80 : 0);
    await stream(server, [b, c], 20);
    void a.socket.close();
    await stream(server, [b, c], 20, 20);
    await until(() => b.socket.isLeader && b.socket.state === 'open' && c.socket.state === 'open', 'b leading, open');
    await stream(server, [b, c], 20, 40);
    const settled = (h: Handle) => h.delivered.length + h.drops.length === h.sent.size;
    await until(() => settled(b) && settled(c), 'every message settled', 15_000, () => [b, c].map((h) => [h.sent.size, h.delivered.length, h.drops.length]));
    await until(() => c.received.length === 60, 'every server message', 15_000, () => c.received.length);
    expect(server.server.sessions).toHaveLength(1);
    for (const handle of [b, c]) expectSettled(handle, server.got, { mayDrop: false });
    expectReceivedInOrder(c, 60);
  });

  it('a class that extends ResumableSocket moves the session from leader to leader too', async () => {
    class Traced extends ResumableSocket {}
    const server = await streamingServer();
    const tabs = new Tabs();
    const a = open(tabs.open(), 'a', server.server, Traced);
    await until(() => a.socket.state === 'open', 'the leader open');
    const b = open(tabs.open(), 'b', server.server, Traced);
    await until(() => b.socket.state === 'open', 'the follower open');
    await stream(server, [a, b], 5);
    void a.socket.close();
    await until(() => b.socket.isLeader && b.socket.state === 'open', 'b leading, open');
    await stream(server, [b], 5, 5);
    await until(() => b.delivered.length === 10, 'b delivered', 15_000, () => [b.delivered, b.drops]);
    expect(b.opens.at(-1)).toMatchObject({ recovered: true, resume: 'resumed' });
    expect(server.server.sessions).toHaveLength(1);
    expectSettled(b, server.got, { mayDrop: false });
  });

  it('checks the Socket option', () => {
    const tabs = new Tabs();
    expect(() => new SharedSocket('ws://127.0.0.1:1', { coordination: tabs.open().coordination, Socket: 'ResumableSocket' as never })).toThrow(
      /option "Socket" must be a class such as ReconnectingSocket, got string/,
    );
  });

  it('the leader crashes mid-stream: the next leader starts a new session; what was not confirmed is dropped `lost`, never sent twice', async () => {
    const server = await streamingServer();
    const tabs = new Tabs();
    const a = open(tabs.open(), 'a', server.server);
    await until(() => a.socket.state === 'open', 'the leader open');
    const [b, c] = [open(tabs.open(), 'b', server.server), open(tabs.open(), 'c', server.server)];
    await until(() => b.socket.state === 'open' && c.socket.state === 'open', 'the followers open');
    await stream(server, [b, c], 20);
    a.tab.crash(a.socket);
    handles = handles.filter((h) => h !== a);
    await stream(server, [b, c], 10, 20);
    await until(() => (b.socket.isLeader || c.socket.isLeader) && b.socket.state === 'open' && c.socket.state === 'open', 'a new leader, open');
    await stream(server, [b, c], 10, 30);
    const settled = (h: Handle) => h.delivered.length + h.drops.length === h.sent.size;
    await until(() => settled(b) && settled(c), 'every message settled', 15_000, () => [b, c].map((h) => [h.sent.size, h.delivered.length, h.drops.length]));

    expect(server.server.sessions).toHaveLength(2);
    for (const handle of [b, c]) {
      expect(handle.opens.at(-1), `${handle.name}'s last open`).toMatchObject({ recovered: false, resume: 'new' });
      expectSettled(handle, server.got, { mayDrop: true });
      for (const drop of handle.drops) expect(drop).toMatchObject({ reason: 'lost', wasSent: true });
      // What was sent after the new session opened is delivered.
      expect(handle.delivered).toContain(`${handle.name}-39`);
    }
  });
});
