import { describe, expect, it, vi } from 'vitest';
import { FakeSocket, flushMicrotasks } from '../helpers/fake-socket.js';
import { jsonCodec, type WireData, messages, opened } from '../../src/index.js';
import { SharedSocket, type SharedSocketEvents, type SharedSocketOptions } from '../../src/shared/index.js';
import { settle } from './fake-tabs.js';
import { URL_A, keep, tabs, useTabs } from './handles.js';

const open = useTabs({ connectTimeoutMs: 200 });

function record(handle: SharedSocket<any, any>) {
  const seen = { messages: [] as unknown[], drops: [] as SharedSocketEvents<unknown, unknown>['drop'][], states: [] as string[], closes: [] as string[] };
  handle.on('message', ({ data }) => seen.messages.push(data));
  handle.on('drop', (event) => seen.drops.push(event));
  handle.on('state', ({ to }) => seen.states.push(to));
  handle.on('close', ({ cause }) => seen.closes.push(cause));
  return seen;
}

/** Three tabs on one URL, the first one leading, its socket open. */
async function threeTabs(options: SharedSocketOptions = {}) {
  const [a, b, c] = [tabs.open(), tabs.open(), tabs.open()];
  const leader = open(a, options);
  await settle();
  const followers = [open(b, options), open(c, options)];
  await settle();
  FakeSocket.latest().serverOpen();
  await settle();
  return { tabs: [a, b, c], leader, followers };
}

describe('SharedSocket across tabs (fake Web Locks and BroadcastChannel)', () => {
  it('three handles share one connection; every handle sees its state', async () => {
    const { leader, followers } = await threeTabs();
    expect(FakeSocket.instances).toHaveLength(1);
    expect(leader.isLeader).toBe(true);
    expect(followers.map((f) => f.isLeader)).toEqual([false, false]);
    expect([leader, ...followers].map((h) => h.state)).toEqual(['open', 'open', 'open']);
    await expect(opened(followers[0]!, { timeoutMs: 100 })).resolves.toBeUndefined();
  });

  it('every server message reaches every handle once, in order', async () => {
    const { leader, followers } = await threeTabs();
    const seen = [leader, ...followers].map(record);
    for (const text of ['1', '2', '3']) FakeSocket.latest().serverMessage(text);
    await settle();
    for (const s of seen) expect(s.messages).toEqual(['1', '2', '3']);
  });

  it('each handle decodes with its own codec', async () => {
    const [a, b] = [tabs.open(), tabs.open()];
    const leader = open(a);
    await settle();
    const follower = new SharedSocket<unknown, unknown>(URL_A, { WebSocket: FakeSocket, heartbeat: false, environment: null, coordination: b.coordination, codec: jsonCodec });
    keep(follower);
    const seen = record(follower);
    const raw = record(leader);
    await settle();
    FakeSocket.latest().serverOpen();
    FakeSocket.latest().serverMessage('{"n":1}');
    await settle();
    expect(raw.messages).toEqual(['{"n":1}']);
    expect(seen.messages).toEqual([{ n: 1 }]);
  });

  it('a follower send goes out through the leader, in order, and settles', async () => {
    const { leader, followers } = await threeTabs();
    expect(followers[0]!.send('b1')).toBe('queued');
    expect(followers[1]!.send('c1')).toBe('queued');
    expect(followers[0]!.send('b2')).toBe('queued');
    expect(leader.send('a1')).toBe('sent');
    await settle();
    const sent = FakeSocket.latest().sent;
    expect(sent.filter((m) => String(m).startsWith('b'))).toEqual(['b1', 'b2']);
    expect(sent).toContain('c1');
    expect(sent[0]).toBe('a1');
  });

  it("sends before the leader's socket opens wait in its queue and go out in order at open", async () => {
    const [a, b] = [tabs.open(), tabs.open()];
    const leader = open(a);
    await settle();
    const follower = open(b);
    await settle();
    expect(follower.send('x')).toBe('queued');
    expect(leader.send('y')).toBe('queued');
    expect(follower.send('z')).toBe('queued');
    await settle();
    FakeSocket.latest().serverOpen();
    await settle();
    // Each handle's messages keep their order; the leader's own reach its queue first (no channel hop).
    expect(FakeSocket.latest().sent).toEqual(['y', 'x', 'z']);
  });

  it("a refusal by the leader's queue reaches the follower as exactly one drop", async () => {
    const [a, b] = [tabs.open(), tabs.open()];
    const options: SharedSocketOptions = { queue: { maxMessages: 1, overflow: 'drop-oldest' } };
    open(a, options);
    await settle();
    const follower = open(b, options);
    const seen = record(follower);
    await settle();
    expect(follower.send('old')).toBe('queued');
    expect(follower.send('new')).toBe('queued');
    await settle();
    expect(seen.drops).toEqual([{ message: 'old', reason: 'overflow' }]);
    FakeSocket.latest().serverOpen();
    await settle();
    expect(FakeSocket.latest().sent).toEqual(['new']);
  });

  it('with no leader known, sends wait here and reach the next leader, whose queue applies the bounds', async () => {
    const [a, b] = [tabs.open(), tabs.open()];
    const options: SharedSocketOptions = { queue: { maxMessages: 2 } };
    const follower = open(b, options);
    // b asked for the lock first: make a hold it instead, and b wait without a leader.
    follower.dispose();
    const waiting = open(b, options);
    const seen = record(waiting);
    expect(waiting.send('1')).toBe('queued');
    expect(waiting.send('2')).toBe('queued');
    expect(waiting.send('3')).toBe('queued');
    expect(seen.drops).toEqual([]);
    await settle();
    // b became the leader itself (it was alone): its held messages went to its own connection's queue, in order,
    // and that queue (2 messages) pushed the oldest out: one drop, as the core reports it.
    void a;
    expect(seen.drops).toEqual([{ message: '1', reason: 'overflow' }]);
    FakeSocket.latest().serverOpen();
    await settle();
    expect(FakeSocket.latest().sent).toEqual(['2', '3']);
  });

  it('the leader closing hands over: the next connection starts only after the old one is closed', async () => {
    const { leader, followers } = await threeTabs({ closeTimeoutMs: 200 });
    const first = FakeSocket.latest();
    const closedBeforeNext: boolean[] = [];
    FakeSocket.onCreate = () => closedBeforeNext.push(first.isClosed);
    const seen = followers.map(record);
    const closing = leader.close();
    await settle();
    first.serverClose();
    await closing;
    await settle();
    expect(FakeSocket.instances).toHaveLength(2);
    expect(closedBeforeNext).toEqual([true]);
    expect(followers.filter((f) => f.isLeader)).toHaveLength(1);
    expect(leader.state).toBe('closed');
    FakeSocket.latest().serverOpen();
    await settle();
    for (const s of seen) expect(s.states).toEqual(['connecting', 'open']);
    expect(followers.map((f) => f.state)).toEqual(['open', 'open']);
  });

  it("messages still queued in a leaving leader go back to their tab and out through the next leader", async () => {
    const [a, b, c] = [tabs.open(), tabs.open(), tabs.open()];
    const leader = open(a, { closeTimeoutMs: 50 });
    await settle();
    const follower = open(b);
    open(c);
    await settle();
    const seen = record(follower);
    expect(follower.send('m1')).toBe('queued');
    expect(follower.send('m2')).toBe('queued');
    await settle();
    await leader.close();
    await settle();
    expect(follower.send('m3')).toBe('queued');
    await settle();
    FakeSocket.latest().serverOpen();
    await settle();
    expect(FakeSocket.instances).toHaveLength(2);
    expect(FakeSocket.latest().sent).toEqual(['m1', 'm2', 'm3']);
    expect(seen.drops).toEqual([]);
  });

  it('a crashed leader is replaced, and unanswered sends go to the next one', async () => {
    const { tabs: [a], leader, followers } = await threeTabs();
    const seen = followers.map(record);
    // The dead tab's socket dies with it.
    a!.crash(leader);
    await settle();
    expect(followers.filter((f) => f.isLeader)).toHaveLength(1);
    expect(seen.map((s) => s.closes)).toEqual([['network'], ['network']]);
    for (const follower of followers) expect(follower.send(`after-${followers.indexOf(follower)}`)).toMatch(/sent|queued/);
    FakeSocket.latest().serverOpen();
    await settle();
    expect(FakeSocket.instances).toHaveLength(2);
    expect([...FakeSocket.latest().sent].sort()).toEqual(['after-0', 'after-1']);
  });

  it("a new leader heard before the old leader's last answers: nothing goes out twice or out of order", async () => {
    const { tabs: [a], leader, followers } = await threeTabs({ closeTimeoutMs: 50 });
    const first = FakeSocket.latest();
    // a's answers (and its retire) reach the others 30 ms late: after the lock has moved and b announced itself.
    a!.postDelayMs = 30;
    expect(followers[0]!.send('m1')).toBe('queued');
    await settle(2);
    expect(first.sent).toEqual(['m1']);
    const closing = leader.close();
    first.serverClose();
    await closing;
    await settle(2);
    expect(followers.filter((f) => f.isLeader)).toHaveLength(1);
    expect(followers[0]!.send('m2')).toBe('queued');
    await new Promise((resolve) => setTimeout(resolve, 60));
    FakeSocket.latest().serverOpen();
    await settle();
    expect(FakeSocket.latest().sent).toEqual(['m2']);
  });

  it("a message the leader's queue sent at open is known as sent: a crash of that leader later does not send it again", async () => {
    const [a, b, c] = [tabs.open(), tabs.open(), tabs.open()];
    const leader = open(a);
    await settle();
    const follower = open(b);
    open(c);
    await settle();
    // Queued by the leader's socket while it connects, then sent with the backlog at open.
    expect(follower.send('early')).toBe('queued');
    await settle();
    const first = FakeSocket.latest();
    first.serverOpen();
    await settle();
    expect(first.sent).toEqual(['early']);
    a!.crash(leader);
    await settle();
    FakeSocket.latest().serverOpen();
    await new Promise((resolve) => setTimeout(resolve, 600));
    await settle();
    expect(FakeSocket.instances).toHaveLength(2);
    expect(FakeSocket.latest().sent).toEqual([]);
  });

  it('a leader that vanishes without answering: the message goes again through the next one after the grace period', async () => {
    const { tabs: [a], leader, followers } = await threeTabs();
    // a is frozen: it neither takes nor answers anything from now on, then it crashes.
    a!.crash(leader);
    expect(followers[0]!.send('unanswered')).toBe('queued');
    await settle();
    FakeSocket.latest().serverOpen();
    expect(followers[0]!.send('after')).toBe('queued');
    await settle();
    expect(FakeSocket.latest().sent).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 600));
    await settle();
    expect(FakeSocket.latest().sent).toEqual(['unanswered', 'after']);
  });

  it('closing a follower leaves the connection; closing the last handle closes it', async () => {
    const { leader, followers } = await threeTabs({ closeTimeoutMs: 50 });
    const socket = FakeSocket.latest();
    const record0 = await followers[0]!.close();
    expect(record0).toMatchObject({ code: 1000, cause: 'client' });
    expect(followers[0]!.state).toBe('closed');
    expect(followers[0]!.send('late')).toBe('closed');
    await expect(opened(followers[0]!)).rejects.toMatchObject({ code: 'CLOSED' });
    await settle();
    expect(socket.isClosed).toBe(false);
    await followers[1]!.close();
    const closing = leader.close();
    await settle();
    expect(socket.readyState).toBe(FakeSocket.CLOSING);
    socket.serverClose();
    expect(await closing).toMatchObject({ code: 1000, cause: 'client', wasClean: true });
    expect(socket.isClosed).toBe(true);
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it('a handle that joins an open connection turns open, hears `open`, and opened() resolves', async () => {
    const { tabs: [a] } = await threeTabs();
    const late = new SharedSocket(URL_A, { WebSocket: FakeSocket, heartbeat: false, environment: null, coordination: a!.coordination });
    keep(late);
    const opens: number[] = [];
    late.on('open', ({ attempt }) => opens.push(attempt));
    await opened(late, { timeoutMs: 500 });
    expect(late.state).toBe('open');
    expect(opens).toEqual([0]);
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it('a close handshake the server never answers holds the next leader back until closeTimeoutMs', async () => {
    const { leader, followers } = await threeTabs({ closeTimeoutMs: 150 });
    const closing = leader.close();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(FakeSocket.instances).toHaveLength(1);
    expect(followers.some((f) => f.isLeader)).toBe(false);
    expect(await closing).toMatchObject({ cause: 'close-timeout' });
    await settle();
    expect(FakeSocket.instances).toHaveLength(2);
  });

  it('a leader closed while its socket connects lets it open and close before the next tab connects', async () => {
    const [a, b] = [tabs.open(), tabs.open()];
    const leader = open(a);
    await settle();
    const follower = open(b);
    await settle();
    const first = FakeSocket.latest();
    const closing = leader.close();
    await settle();
    // The server may already hold this connection: it is not abandoned half-open while another one starts.
    expect(FakeSocket.instances).toHaveLength(1);
    first.serverOpen();
    await settle();
    expect(first.readyState).toBe(FakeSocket.CLOSING);
    expect(FakeSocket.instances).toHaveLength(1);
    first.serverClose();
    expect(await closing).toMatchObject({ code: 1000, cause: 'client' });
    await settle();
    expect(FakeSocket.instances).toHaveLength(2);
    expect(follower.isLeader).toBe(true);
  });

  it('dispose() during a leader close() still lets the lock go only after the connection is down', async () => {
    const { leader, followers } = await threeTabs({ closeTimeoutMs: 5000 });
    const first = FakeSocket.latest();
    const downBeforeNext: boolean[] = [];
    FakeSocket.onCreate = () => downBeforeNext.push(first.isClosed || first.readyState === FakeSocket.CLOSING);
    void leader.close();
    await settle();
    expect(FakeSocket.instances).toHaveLength(1);
    leader.dispose();
    await settle();
    expect(FakeSocket.instances).toHaveLength(2);
    expect(downBeforeNext).toEqual([true]);
    expect(followers.filter((f) => f.isLeader)).toHaveLength(1);
  });

  it('different URLs or keys never share', async () => {
    const [a, b] = [tabs.open(), tabs.open()];
    open(a, { key: 'one' });
    open(b, { key: 'two' });
    open(b, {}, 'ws://127.0.0.1:1/other');
    open(a, { key: 'one' });
    await settle();
    expect(FakeSocket.instances.map((s) => s.url).sort()).toEqual([URL_A, URL_A, 'ws://127.0.0.1:1/other'].sort());
  });

  it('pagehide into the back-forward cache hands the connection over; pageshow rejoins as a follower', async () => {
    const { tabs: [a], leader, followers } = await threeTabs();
    const first = FakeSocket.latest();
    a!.pagehide(true);
    expect(first.isClosed || first.readyState === FakeSocket.CLOSING).toBe(true);
    await settle();
    expect(followers.filter((f) => f.isLeader)).toHaveLength(1);
    expect(leader.isLeader).toBe(false);
    a!.pageshow();
    FakeSocket.latest().serverOpen();
    await settle();
    expect(FakeSocket.instances).toHaveLength(2);
    expect(leader.state).toBe('open');
    expect(leader.send('back')).toBe('queued');
    await settle();
    expect(FakeSocket.latest().sent).toEqual(['back']);
  });

  it('without coordination it is a per-tab socket, and says so through debug', async () => {
    const debug: string[] = [];
    const handle = new SharedSocket(URL_A, { WebSocket: FakeSocket, heartbeat: false, environment: null, coordination: null, debug: (m) => debug.push(m) });
    keep(handle);
    expect(handle.isShared).toBe(false);
    expect(debug.some((m) => /per-tab socket/.test(m))).toBe(true);
    await settle();
    FakeSocket.latest().serverOpen();
    await opened(handle, { timeoutMs: 100 });
    expect(handle.send('x' as WireData)).toBe('sent');
  });

  it('close() and dispose() report what the handle still held with one drop each', async () => {
    const [a, b, c] = [tabs.open(), tabs.open(), tabs.open()];
    const leader = open(a);
    await settle();
    const seenLeader = record(leader);
    expect(leader.send('mine')).toBe('queued');
    await leader.close();
    expect(seenLeader.drops).toEqual([{ message: 'mine', reason: 'closed' }]);
    // No leader is known to c yet (b takes the lock next but has not announced itself): c holds its message.
    const follower = open(b);
    const alone = open(c);
    const seenAlone = record(alone);
    expect(alone.send('held')).toBe('queued');
    alone.dispose();
    expect(seenAlone.drops).toEqual([{ message: 'held', reason: 'disposed' }]);
    void follower;
  });

  it('dispose ends the handle: listeners removed, page listeners gone, local messages dropped as disposed', async () => {
    const tab = tabs.open();
    const handle = open(tab);
    expect(tab.page.listenerCount).toBe(2);
    handle.dispose();
    expect(tab.page.listenerCount).toBe(0);
    expect(handle.isDisposed).toBe(true);
    expect(handle.send('x')).toBe('disposed');
    await settle();
    expect(FakeSocket.instances).toHaveLength(0);
  });

  it('leaves no timer behind after close() or dispose(), leader or not', async () => {
    vi.useFakeTimers();
    try {
      const tab = tabs.open();
      const leader = open(tab, { closeTimeoutMs: 100 });
      await flushMicrotasks();
      expect(leader.isLeader).toBe(true);
      FakeSocket.latest().serverOpen();
      await flushMicrotasks();
      const waiting = opened(leader, { timeoutMs: 1000 });
      const closing = leader.close();
      await vi.advanceTimersByTimeAsync(150);
      await closing;
      await waiting;
      expect(vi.getTimerCount()).toBe(0);

      const other = open(tab);
      const pending = opened(other, { timeoutMs: 1000 }).catch((error: { code: string }) => error.code);
      other.dispose();
      expect(await pending).toBe('DISPOSED');
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a listener that disposes its handle from inside a relayed event leaves it closed', async () => {
    const { followers } = await threeTabs();
    const [follower] = followers;
    follower!.on('message', () => follower!.dispose());
    FakeSocket.latest().serverMessage('bye');
    FakeSocket.latest().serverClose(4000, 'later');
    await settle();
    expect(follower!.state).toBe('closed');
    expect(follower!.isDisposed).toBe(true);
    // The others keep following the connection, now waiting for its retry.
    expect(followers[1]!.state).toBe('closed');
    expect(followers[1]!.isDisposed).toBe(false);
  });

  it("a handle's events go out as the core's: a throwing listener is an error event, a listener's own events wait their turn", async () => {
    const { followers } = await threeTabs();
    const [follower] = followers;
    const order: string[] = [];
    follower!.on('message', () => {
      throw new Error('listener broke');
    });
    follower!.on('message', ({ data }) => {
      order.push(`message ${String(data)}`);
      // Its events (state, close, end) come after this event's other listeners, never inside them.
      if (data === 'last') void follower!.close();
      order.push(`after close() ${String(data)}`);
    });
    follower!.on('message', ({ data }) => order.push(`third ${String(data)}`));
    follower!.on('error', ({ error }) => order.push(`error ${error.code}`));
    follower!.on('state', ({ to }) => order.push(`state ${to}`));
    follower!.on('end', () => order.push('end'));
    FakeSocket.latest().serverMessage('first');
    FakeSocket.latest().serverMessage('last');
    await settle();
    expect(order).toEqual([
      'message first',
      'after close() first',
      'third first',
      'error LISTENER_THREW',
      'message last',
      'after close() last',
      'third last',
      'error LISTENER_THREW',
      'state closed',
      'end',
    ]);
  });

  it('closed resolves when the handle ends, with its final close record, leader or follower', async () => {
    const { leader, followers } = await threeTabs({ closeTimeoutMs: 50 });
    const ends: string[] = [];
    const watch = (name: string, handle: SharedSocket<any, any>) => void handle.closed.then((record) => ends.push(`${name} ${record.code} ${record.cause}`));
    watch('leader', leader);
    watch('follower', followers[0]!);
    watch('other', followers[1]!);
    await settle();
    expect(ends).toEqual([]);
    await followers[0]!.close(4001, 'bye');
    await settle();
    expect(ends).toEqual(['follower 4001 client']);
    const closing = leader.close();
    FakeSocket.latest().serverClose();
    await closing;
    await settle();
    expect(ends).toEqual(['follower 4001 client', 'leader 1000 client']);
    followers[1]!.dispose();
    await settle();
    expect(ends).toEqual(['follower 4001 client', 'leader 1000 client', 'other 1006 dispose']);
    // Read after the end, it is already settled with the same record.
    await expect(followers[0]!.closed).resolves.toMatchObject({ code: 4001, reason: 'bye' });
    // A dispose() during close() is the final end.
    const late = open(tabs.open());
    const closingLate = late.close();
    late.dispose();
    await expect(late.closed).resolves.toMatchObject({ cause: 'dispose' });
    await closingLate;
    await expect(late.closed).resolves.toMatchObject({ cause: 'dispose' });
  });

  it('messages() yields in order and ends at close(); opened() honours its signal and timeout', async () => {
    const { followers } = await threeTabs();
    const [follower] = followers;
    const iterator = messages(follower!);
    const got: unknown[] = [];
    const loop = (async () => {
      for await (const data of iterator) got.push(data);
    })();
    FakeSocket.latest().serverMessage('a');
    FakeSocket.latest().serverMessage('b');
    await settle();
    await follower!.close();
    await loop;
    expect(got).toEqual(['a', 'b']);

    const other = followers[1]!;
    FakeSocket.latest().serverClose(4000);
    await settle();
    await expect(opened(other, { timeoutMs: 20 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    await expect(opened(other, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORTED' });
    expect(() => opened(other, { timeoutMs: 0 })).toThrow(RangeError);
  });

  it('checks options and the url up front', () => {
    const tab = tabs.open();
    expect(() => new SharedSocket(() => URL_A, { coordination: tab.coordination })).toThrow(/not '' with a url function/);
    expect(() => new SharedSocket(URL_A, { coordination: tab.coordination, key: 5 as unknown as string })).toThrow(/option "key" must be a string.*got number/);
    expect(() => new SharedSocket('not a url', { coordination: tab.coordination })).toThrow();
    expect(() => new SharedSocket(URL_A, { coordination: tab.coordination, connectTimeoutMs: -1 })).toThrow(RangeError);
  });

  it('close() checks its arguments as the core does, in a follower and in the leader', async () => {
    const { leader, followers } = await threeTabs();
    for (const handle of [followers[0]!, leader]) {
      expect(() => handle.close(1006)).toThrow(RangeError);
      expect(() => handle.close(2000)).toThrow(RangeError);
      expect(() => handle.close('1000' as unknown as number)).toThrow(TypeError);
      expect(() => handle.close(1000, 'é'.repeat(62))).toThrow(RangeError);
      expect(() => handle.close(1000, 5 as unknown as string)).toThrow(TypeError);
      expect(handle.state).toBe('open');
    }
    await followers[0]!.close(4000, 'é'.repeat(61));
    expect(followers[0]!.lastClose).toMatchObject({ code: 4000 });
  });
});
