import { describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { MemoryStore, type ResumeSession } from '../../src/server/index.js';
import { startFaultProxy } from '../helpers/proxy.js';
import { next, resumable, startResumeServer, until } from '../helpers/resume.js';

type Open = { recovered: boolean; resume: string; missed: number };

/** A client socket's events, collected. */
function watch<Out>(socket: { on: (type: any, listener: (event: any) => void) => () => void }) {
  const seen = { opens: [] as Open[], messages: [] as unknown[], drops: [] as { message: Out; reason: string; wasSent: boolean }[], delivered: [] as Out[] };
  socket.on('open', ({ recovered, resume, missed }: Open) => seen.opens.push({ recovered, resume, missed }));
  socket.on('message', ({ data }: { data: unknown }) => seen.messages.push(data));
  socket.on('drop', ({ message, reason, wasSent }: any) => seen.drops.push({ message, reason, wasSent }));
  socket.on('delivered', ({ message }: { message: Out }) => seen.delivered.push(message));
  return seen;
}

describe('resume: sessions', () => {
  it('resumes a client that dropped before its first message, and replays what the server sent meanwhile', async () => {
    let session: ResumeSession | undefined;
    const server = await startResumeServer({ onSession: (s) => (session = s) });
    const proxy = await startFaultProxy(server.port);
    const socket = resumable<string, string>(proxy.url, { delay: () => 50 });
    const seen = watch<string>(socket);
    await until(() => seen.opens.length === 1, 'the first open');
    proxy.refuse(true);
    proxy.reset();
    await until(() => session?.isConnected === false, 'the server to notice');
    // No message went either way on that connection; the server speaks while the client is away.
    expect(session!.send('while-away-1')).toBe('queued');
    expect(session!.send('while-away-2')).toBe('queued');
    proxy.refuse(false);
    await until(() => seen.opens.length === 2, 'the second open');
    expect(seen.opens).toEqual([
      { recovered: false, resume: 'new', missed: 0 },
      { recovered: true, resume: 'resumed', missed: 0 },
    ]);
    await until(() => seen.messages.length === 2, 'the replay');
    expect(seen.messages).toEqual(['while-away-1', 'while-away-2']);
    expect(session!.recovered).toBe(true);
    expect(server.sessions).toHaveLength(1);
  });

  it('refuses a token from another identity: that client gets a new session, and the owner can still resume', async () => {
    const server = await startResumeServer({ identify: (request) => new URL(request.url!, 'http://x').searchParams.get('user') });
    const alice = resumable<string, string>(`${server.url}/?user=alice`);
    await next(alice.on.bind(alice), 'open');
    alice.send('from alice');
    await until(() => alice.unacknowledged === 0, 'the acknowledgement');
    const snapshot = alice.handOff();
    expect(snapshot.token).toMatch(/^[A-Za-z0-9_-]{22}$/);

    const mallory = resumable<string, string>(`${server.url}/?user=mallory`, { resume: { session: snapshot } });
    const malloryOpen = await next<Open>(mallory.on.bind(mallory), 'open');
    expect(malloryOpen).toMatchObject({ recovered: false, resume: 'refused' });

    const aliceAgain = resumable<string, string>(`${server.url}/?user=alice`, { resume: { session: snapshot } });
    const aliceOpen = await next<Open>(aliceAgain.on.bind(aliceAgain), 'open');
    expect(aliceOpen).toMatchObject({ recovered: true, resume: 'resumed' });
    expect(server.sessions.map((s) => s.identity)).toEqual(['alice', 'mallory']);
  });

  it('answers an unknown token with a new session', async () => {
    const server = await startResumeServer();
    const socket = resumable(server.url, { resume: { session: { token: 'A'.repeat(22), received: 0, base: 0, sent: [], unsent: [] } } });
    expect(await next<Open>(socket.on.bind(socket), 'open')).toMatchObject({ recovered: false, resume: 'unknown' });
  });

  it('hands a session over to another socket (handOff): nothing lost, nothing twice', async () => {
    const got: string[] = [];
    const server = await startResumeServer({ onSession: (s) => s.on('message', ({ data }) => got.push(data.toString())), ackDelayMs: 60_000, ackEvery: 1000 });
    const first = resumable<string, string>(server.url);
    await next(first.on.bind(first), 'open');
    first.send('one');
    first.send('two');
    await until(() => got.length === 2, 'the first two');
    const snapshot = first.handOff();
    expect(snapshot.sent.map((entry) => entry.message)).toEqual(['one', 'two']);
    const second = resumable<string, string>(server.url, { resume: { session: snapshot } });
    const seen = watch<string>(second);
    expect(second.send('three')).toBe('queued');
    await until(() => got.length === 3, 'the third');
    expect(seen.opens).toEqual([{ recovered: true, resume: 'resumed', missed: 0 }]);
    expect(got).toEqual(['one', 'two', 'three']);
  });

  it('a snapshot another socket continued since (the server refuses its count with 1002): the session is given up, no loop', async () => {
    const server = await startResumeServer({ ackDelayMs: 10 });
    const first = resumable<string, string>(server.url);
    await next(first.on.bind(first), 'open');
    const stale = first.handOff();
    // A second socket continues the session and acknowledges what the server sends: the stale snapshot's count
    // (0) is now below what the server knows the client received.
    const second = resumable<string, string>(server.url, { resume: { session: stale } });
    const seenSecond = watch<string>(second);
    await until(() => seenSecond.opens.length === 1, 'the resume');
    for (const text of ['a', 'b', 'c']) server.sessions[0]!.send(text);
    await until(() => seenSecond.messages.length === 3 && server.sessions[0]!.buffered === 0, 'the acknowledgement');
    second.handOff();
    const third = resumable<string, string>(server.url, { resume: { session: stale } });
    const seen = watch<string>(third);
    const errors: string[] = [];
    third.on('error', ({ error }) => errors.push(error.code));
    const closes: unknown[] = [];
    third.on('close', ({ code, willReconnect }) => closes.push({ code, willReconnect }));
    await until(() => seen.opens.length === 1, 'an open with a new session', 5_000);
    expect(closes).toEqual([{ code: 1002, willReconnect: true }]);
    expect(seen.opens).toEqual([{ recovered: false, resume: 'new', missed: 0 }]);
    expect(errors).toEqual(['RESUME_PROTOCOL']);
    // The server's session was left as it was: still parked for its owner.
    expect(server.sessions[0]!.isEnded).toBe(false);
  });

  it('close() ends the session: the server acknowledges the last messages, nothing is dropped', async () => {
    let ended: string | undefined;
    const got: string[] = [];
    const server = await startResumeServer({
      ackDelayMs: 60_000,
      ackEvery: 1000,
      onSession: (s) => {
        s.on('message', ({ data }) => got.push(data.toString()));
        s.on('end', ({ reason }) => (ended = reason));
      },
    });
    const socket = resumable<string, string>(server.url);
    const seen = watch<string>(socket);
    await next(socket.on.bind(socket), 'open');
    for (let i = 0; i < 10; i++) socket.send(`m${i}`);
    const record = await socket.close();
    expect(record.code).toBe(1000);
    expect(seen.delivered).toHaveLength(10);
    expect(seen.drops).toEqual([]);
    expect(got).toHaveLength(10);
    await until(() => ended !== undefined, 'the session end');
    expect(ended).toBe('bye');
    expect(server.resume.sessions.size).toBe(0);
    expect(socket.send('after')).toBe('closed');
  });

  it('session.close() from the server: the client drops what was not acknowledged and starts a new session', async () => {
    let session: ResumeSession | undefined;
    const server = await startResumeServer({ onSession: (s) => (session = s) });
    const socket = resumable<string, string>(server.url);
    const seen = watch<string>(socket);
    await until(() => seen.opens.length === 1 && session !== undefined, 'the open');
    session!.close(4000, 'bye for now');
    await until(() => seen.opens.length === 2, 'the next open');
    // BYE told the client the session is over: it starts a fresh one without offering the old.
    expect(seen.opens[1]).toMatchObject({ recovered: false, resume: 'new' });
    expect(server.sessions).toHaveLength(2);
  });

  it('servers sharing a store resume each other’s sessions (a load balancer without sticky sessions)', async () => {
    const store = new MemoryStore();
    const got: string[] = [];
    const onSession = (s: ResumeSession) => s.on('message', ({ data }) => got.push(data.toString()));
    const one = await startResumeServer({ store, onSession });
    const two = await startResumeServer({ store, onSession });
    const proxyOne = await startFaultProxy(one.port);
    let target = proxyOne.url;
    const socket = resumable<string, string>(() => target, { delay: () => 20 });
    const seen = watch<string>(socket);
    await until(() => seen.opens.length === 1 && one.sessions.length === 1, 'the open on server one');
    socket.send('to one');
    await until(() => got.length === 1, 'the first message');
    const parked = one.sessions[0]!;
    target = two.url;
    proxyOne.reset();
    await until(() => !parked.isConnected, 'server one to park the session');
    parked.send('from one while parked');
    await until(() => seen.opens.length === 2, 'the open on server two');
    expect(seen.opens[1]).toMatchObject({ recovered: true, resume: 'resumed' });
    expect(two.sessions).toHaveLength(1);
    expect(two.sessions[0]!.recovered).toBe(true);
    expect(two.sessions[0]!.id).toBe(parked.id);
    socket.send('to two');
    await until(() => got.length === 2 && seen.messages.length === 1, 'both directions');
    expect(got).toEqual(['to one', 'to two']);
    expect(seen.messages).toEqual(['from one while parked']);
  });

  it('close({ keepSessions }) parks the sessions for a server that shares the store (a rolling restart)', async () => {
    const store = new MemoryStore();
    const one = await startResumeServer({ store });
    const two = await startResumeServer({ store });
    let target = one.url;
    const socket = resumable<string, string>(() => target, { delay: () => 20 });
    const seen = watch<string>(socket);
    await until(() => seen.opens.length === 1 && one.sessions.length === 1, 'the open on server one');
    one.sessions[0]!.send('from one');
    await until(() => seen.messages.length === 1, 'the first message');
    target = two.url;
    one.resume.close(1012, 'restarting', { keepSessions: true });
    await until(() => seen.opens.length === 2, 'the open on server two');
    expect(seen.opens[1]).toMatchObject({ recovered: true, resume: 'resumed' });
    expect(two.sessions[0]!.id).toBe(one.sessions[0]!.id);
    expect(seen.drops).toEqual([]);
  });

  it('a server buffer that overflows while the client is away: the client opens with missed, the server dropped each', async () => {
    let session: ResumeSession | undefined;
    const serverDrops: unknown[] = [];
    const server = await startResumeServer({
      maxMessages: 3,
      onSession: (s) => {
        session = s;
        s.on('drop', ({ data, reason, wasSent }) => serverDrops.push({ data, reason, wasSent }));
      },
    });
    const proxy = await startFaultProxy(server.port);
    const socket = resumable<string, string>(proxy.url, { delay: () => 30 });
    const seen = watch<string>(socket);
    await until(() => seen.opens.length === 1 && session !== undefined, 'the open');
    proxy.refuse(true);
    proxy.reset();
    await until(() => !session!.isConnected, 'the server to notice');
    for (let i = 0; i < 5; i++) session!.send(`s${i}`);
    proxy.refuse(false);
    await until(() => seen.opens.length === 2 && seen.messages.length === 3, 'the resume and its replay');
    expect(seen.opens[1]).toEqual({ recovered: true, resume: 'resumed', missed: 2 });
    expect(seen.messages).toEqual(['s2', 's3', 's4']);
    expect(serverDrops).toEqual([
      { data: 's0', reason: 'overflow', wasSent: false },
      { data: 's1', reason: 'overflow', wasSent: false },
    ]);
  });

  it('a client that gave up messages it had written: it says where it continues (NEXT), the server reports the gap', async () => {
    let session: ResumeSession | undefined;
    const got: string[] = [];
    const gaps: number[] = [];
    const server = await startResumeServer({
      onSession: (s) => {
        session = s;
        s.on('message', ({ data }) => got.push(data.toString()));
        s.on('gap', ({ missed }) => gaps.push(missed));
      },
    });
    const proxy = await startFaultProxy(server.port);
    const socket = resumable<string, string>(proxy.url, { delay: () => 30, queue: { maxMessages: 5 } });
    const seen = watch<string>(socket);
    await until(() => seen.opens.length === 1 && session !== undefined, 'the open');
    // Written into a network that loses them: the server never sees c0..c4.
    proxy.blackhole(true);
    for (let i = 0; i < 5; i++) expect(socket.send(`c${i}`)).toBe('sent');
    await new Promise((resolve) => setTimeout(resolve, 50));
    proxy.refuse(true);
    proxy.blackhole(false);
    proxy.reset();
    await until(() => socket.state !== 'open', 'the client to notice');
    // The outbox holds 5: three more push the three oldest written ones out (they can no longer be resent).
    for (let i = 5; i < 8; i++) expect(socket.send(`c${i}`)).toBe('queued');
    expect(seen.drops).toEqual([0, 1, 2].map((i) => ({ message: `c${i}`, reason: 'overflow', wasSent: true })));
    proxy.refuse(false);
    await until(() => got.length === 5, 'the rest', 10_000, () => got);
    expect(got).toEqual(['c3', 'c4', 'c5', 'c6', 'c7']);
    expect(gaps).toEqual([3]);
    expect(seen.opens[1]).toMatchObject({ recovered: true, resume: 'resumed' });
  });

  it('a half-open connection: the client comes back before the server noticed; the new connection takes the session over', async () => {
    let session: ResumeSession | undefined;
    const got: string[] = [];
    const server = await startResumeServer({ onSession: (s) => ((session = s), s.on('message', ({ data }) => got.push(data.toString()))) });
    const stale = await startFaultProxy(server.port);
    let target = stale.url;
    const socket = resumable<string, string>(() => target);
    const seen = watch<string>(socket);
    await until(() => seen.opens.length === 1 && session !== undefined, 'the open');
    stale.blackhole(true);
    target = server.url;
    socket.reconnect();
    await until(() => seen.opens.length === 2, 'the open on the new path');
    expect(seen.opens[1]).toMatchObject({ recovered: true, resume: 'resumed' });
    socket.send('after the takeover');
    await until(() => got.length === 1, 'the message');
    expect(server.sessions).toHaveLength(1);
    expect(session!.isConnected).toBe(true);
  });

  it('expires a parked session after sessionTtlMs, dropping what it held', async () => {
    let session: ResumeSession | undefined;
    const drops: unknown[] = [];
    let ended: string | undefined;
    const server = await startResumeServer({
      sessionTtlMs: 100,
      onSession: (s) => {
        session = s;
        s.on('drop', ({ data, reason }) => drops.push({ data, reason }));
        s.on('end', ({ reason }) => (ended = reason));
      },
    });
    const socket = resumable<string, string>(server.url, { autoConnect: true });
    await next(socket.on.bind(socket), 'open');
    await until(() => session !== undefined, 'the session');
    socket.dispose();
    await until(() => !session!.isConnected, 'the server to notice');
    session!.send('never read');
    await until(() => ended !== undefined, 'the expiry', 5_000);
    expect(ended).toBe('expired');
    expect(drops).toEqual([{ data: 'never read', reason: 'expired' }]);
    expect(server.resume.sessions.size).toBe(0);
  });
});

describe('resume: against a ws server that does not speak it', () => {
  it.each([
    ['declines every subprotocol', { handleProtocols: () => false as const }],
    ['selects the first offer blindly (ws default)', {}],
  ])('runs plain and says so when the server %s', async (_, options) => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, ...options });
    await new Promise((resolve) => wss.once('listening', resolve));
    const seenByServer: string[] = [];
    wss.on('connection', (ws) => ws.on('message', (data) => (seenByServer.push(data.toString()), ws.send(`echo ${data}`))));
    const debug: string[] = [];
    const socket = resumable<string, string>(`ws://127.0.0.1:${(wss.address() as { port: number }).port}`, { debug: (message) => debug.push(message) });
    const seen = watch<string>(socket);
    socket.send('queued before open');
    await until(() => seen.opens.length === 1, 'the open');
    expect(seen.opens[0]).toEqual({ recovered: false, resume: 'unsupported', missed: 0 });
    expect(socket.isResumable).toBe(false);
    expect(socket.protocol).toBe('');
    expect(socket.send('plain')).toBe('sent');
    await until(() => seen.messages.length === 2, 'the echoes');
    expect(seenByServer).toEqual(['queued before open', 'plain']);
    expect(seen.messages).toEqual(['echo queued before open', 'echo plain']);
    expect(debug.some((message) => /did not agree to the resume protocol/.test(message))).toBe(true);
    for (const client of wss.clients) client.terminate();
    await new Promise((resolve) => wss.close(resolve));
  });

  it('keeps the application subprotocol: plain against a server that picks it, resumable against the helper', async () => {
    const plain = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => plain.once('listening', resolve));
    const a = resumable(`ws://127.0.0.1:${(plain.address() as { port: number }).port}`, { protocols: ['chat.v2', 'chat.v1'] });
    expect(await next<Open>(a.on.bind(a), 'open')).toMatchObject({ resume: 'unsupported' });
    expect(a.protocol).toBe('chat.v2');
    a.dispose();
    await new Promise((resolve) => plain.close(resolve));

    const server = await startResumeServer({ handleProtocols: (offered) => (offered.has('chat.v1') ? 'chat.v1' : false) });
    const b = resumable(server.url, { protocols: async () => ['chat.v2', 'chat.v1'] });
    expect(await next<Open>(b.on.bind(b), 'open')).toMatchObject({ resume: 'new', protocol: 'chat.v1' });
    expect(b.protocol).toBe('chat.v1');
    expect(server.sessions[0]!.protocol).toBe('chat.v1');
  });
});
