// Peers that break the protocol, built by hand from docs/protocol.md: each side reports a clear error, ends
// what cannot be trusted, and keeps serving; nothing throws and nothing crashes.
import { describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import type { ResumeError } from '../../src/resume/index.js';
import type { ResumeSession } from '../../src/server/index.js';
import { HOST } from '../helpers/listen.js';
import { next, resumable, startResumeServer, until } from '../helpers/resume.js';
import { cleanup } from '../helpers/teardown.js';

const MARK = 0xc1;
const u64 = (value: bigint) => {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, value);
  return [...bytes];
};
const frame = (type: number, ...rest: number[]) => Buffer.from([MARK, type, ...rest]);
const ack = (count: bigint) => frame(0x02, ...u64(count));
const welcome = (outcome: number, received: bigint, next: bigint, token = 'T'.repeat(22)) =>
  Buffer.from([MARK, 0x01, outcome, ...u64(received), ...u64(next), token.length, ...Buffer.from(token)]);

/** A hand-driven client that offers the resume protocol and records what the server sends. */
async function rawClient(url: string, protocols: string[] = ['rws-resume.v1']) {
  const ws = new WebSocket(url, protocols);
  cleanup(() => ws.terminate());
  const frames: Buffer[] = [];
  ws.on('message', (data: Buffer) => frames.push(data));
  ws.on('error', () => {});
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
  await until(() => frames.length > 0, 'WELCOME');
  return { ws, frames, closed };
}

describe('resume: a client that breaks the protocol (server side)', () => {
  it.each([
    ['a 1-byte control frame', () => Buffer.from([MARK]), /control frame of 1 byte/],
    ['an unknown control type', () => frame(0x7f), /unknown control 0x7f frame/],
    ['a truncated ACK', () => frame(0x02, 0, 0, 0), /ACK frame of 5 bytes, expected 10/],
    ['an ACK for messages never sent', () => ack(5n), /ACK acknowledged 5 messages, but only 0 were sent/],
    ['a count above 2^53 - 1', () => ack(1n << 60n), /count above 2\^53 - 1/],
    ['a WELCOME from a client', () => welcome(0, 0n, 0n), /WELCOME from a client/],
  ])('%s: error, close 1002, session ended; the server keeps serving', async (_, bad, message) => {
    const ended: string[] = [];
    const server = await startResumeServer({ onSession: (s) => s.on('end', ({ reason }) => ended.push(reason)) });
    const client = await rawClient(server.url);
    expect([...client.frames[0]!.subarray(0, 3)]).toEqual([MARK, 0x01, 0]);
    client.ws.send(bad());
    expect(await client.closed).toEqual({ code: 1002, reason: 'resume protocol error' });
    expect(server.errors.map((error) => (error as ResumeError).code)).toEqual(['RESUME_PROTOCOL']);
    expect(server.errors[0]!.message).toMatch(message);
    expect(ended).toEqual(['failed']);
    // Another client is served as usual.
    const socket = resumable(server.url);
    expect(await next(socket.on.bind(socket), 'open')).toMatchObject({ resume: 'new' });
  });

  it('an acknowledgement that goes backwards', async () => {
    let session: ResumeSession | undefined;
    const server = await startResumeServer({ onSession: (s) => (session = s) });
    const client = await rawClient(server.url);
    await until(() => session !== undefined, 'the session');
    session!.send('one');
    session!.send('two');
    await until(() => client.frames.length === 3, 'the two messages');
    client.ws.send(ack(2n));
    client.ws.send(ack(1n));
    expect((await client.closed).code).toBe(1002);
    expect(server.errors[0]!.message).toMatch(/ACK acknowledged 1 messages, after acknowledging 2/);
  });

  it('a malformed session offer gets a new session (unknown) and an error', async () => {
    const server = await startResumeServer();
    const client = await rawClient(server.url, ['rws-resume.plain', 'rws-resume.v1', 'rws-resume.v1.session.short.0']);
    expect([...client.frames[0]!.subarray(0, 3)]).toEqual([MARK, 0x01, 2]);
    expect(server.errors[0]!.message).toMatch(/bad session offer/);
  });

  it('an offer to resume after more messages than were sent is refused; the session stays for its owner', async () => {
    let session: ResumeSession | undefined;
    const server = await startResumeServer({ onSession: (s) => (session = s) });
    const owner = resumable<string, string>(server.url);
    await next(owner.on.bind(owner), 'open');
    await until(() => session !== undefined, 'the session');
    const snapshot = owner.handOff();
    await until(() => !session!.isConnected, 'the session to park');
    const liar = new WebSocket(server.url, ['rws-resume.v1', `rws-resume.v1.session.${snapshot.token}.99`]);
    cleanup(() => liar.terminate());
    liar.on('error', () => {});
    const code = await new Promise((resolve) => liar.on('close', resolve));
    expect(code).toBe(1002);
    expect(server.errors[0]!.message).toMatch(/offers to resume after 99 messages, but only 0 were sent/);
    const again = resumable(server.url, { resume: { session: snapshot } });
    expect(await next(again.on.bind(again), 'open')).toMatchObject({ recovered: true });
  });
});

/** A ws server that selects the resume protocol and then does what `script` says with each connection. */
async function scriptedServer(script: (ws: WebSocket, index: number, offered: Set<string>) => void) {
  const offers: Set<string>[] = [];
  const wss = new WebSocketServer({
    host: HOST,
    port: 0,
    handleProtocols: (offered) => {
      offers.push(offered);
      return offered.has('rws-resume.v1') ? 'rws-resume.v1' : false;
    },
  });
  await new Promise((resolve) => wss.once('listening', resolve));
  let index = 0;
  wss.on('connection', (ws, request) => {
    ws.on('error', () => {});
    script(ws, index++, new Set(String(request.headers['sec-websocket-protocol'] ?? '').split(/, */).filter(Boolean)));
  });
  cleanup(() => {
    for (const client of wss.clients) client.terminate();
    return new Promise((resolve) => wss.close(resolve));
  });
  return { url: `ws://${HOST}:${(wss.address() as { port: number }).port}`, offers };
}

describe('resume: a server that breaks the protocol (client side)', () => {
  it.each([
    ['data before WELCOME', (ws: WebSocket) => ws.send('hello'), /a data message arrived before WELCOME/],
    ['a truncated WELCOME', (ws: WebSocket) => ws.send(frame(0x01, 0, 0, 0)), /WELCOME frame of 5 bytes, expected at least 20/],
    ['WELCOME twice', (ws: WebSocket) => (ws.send(welcome(0, 0n, 0n)), ws.send(welcome(0, 0n, 0n))), /WELCOME arrived twice/],
    ['an ACK for messages never sent', (ws: WebSocket) => (ws.send(welcome(0, 0n, 0n)), ws.send(ack(3n))), /ACK acknowledged 3 messages, but only 0 were sent/],
    ['a resumed session that was not offered', (ws: WebSocket) => ws.send(welcome(1, 0n, 0n)), /resumed a session this socket did not offer/],
    ['a new session that counts messages', (ws: WebSocket) => ws.send(welcome(0, 4n, 0n)), /new session must count 0/],
    ['an unknown control type', (ws: WebSocket) => (ws.send(welcome(0, 0n, 0n)), ws.send(frame(0x42))), /unknown control 0x42 frame/],
  ])('%s: an error event, a new connection', async (_, misbehave, message) => {
    const server = await scriptedServer((ws, index) => (index === 0 ? misbehave(ws) : ws.send(welcome(0, 0n, 0n))));
    const socket = resumable(server.url);
    const errors: Error[] = [];
    socket.on('error', ({ error }) => errors.push(error));
    const open = await next(socket.on.bind(socket), 'open');
    expect(open).toMatchObject({ resume: 'new', recovered: false });
    // Some cases break the protocol only after a good WELCOME: their error may follow the open.
    await until(() => errors.length > 0, 'the error');
    expect(errors.map((error) => [error.name, (error as ResumeError).code])).toEqual([['ResumeError', 'RESUME_PROTOCOL']]);
    expect(errors[0]!.message).toMatch(message);
  });

  it('no WELCOME within connectTimeoutMs: WELCOME_TIMEOUT; after three failures in a row the socket runs plain', async () => {
    const server = await scriptedServer(() => {});
    const socket = resumable(server.url, { connectTimeoutMs: 200 });
    const errors: string[] = [];
    socket.on('error', ({ error }) => errors.push((error as ResumeError).code));
    const open = await next(socket.on.bind(socket), 'open');
    expect(errors).toEqual(['WELCOME_TIMEOUT', 'WELCOME_TIMEOUT', 'WELCOME_TIMEOUT']);
    expect(open).toMatchObject({ resume: 'unsupported' });
    // The fourth attempt offered no subprotocol at all.
    expect(server.offers).toHaveLength(3);
  });

  it('a message the socket sent is never lost to a protocol error: it is dropped (lost), or resent in the new session', async () => {
    const got: string[] = [];
    const server = await scriptedServer((ws, index) => {
      ws.send(welcome(0, 0n, 0n));
      ws.on('message', (data, isBinary) => {
        if (isBinary) return;
        got.push(data.toString());
        if (index === 0) ws.send(ack(7n));
      });
    });
    const socket = resumable<string, string>(server.url);
    const drops: unknown[] = [];
    socket.on('drop', ({ message, reason, wasSent }) => drops.push({ message, reason, wasSent }));
    socket.on('error', () => {});
    await next(socket.on.bind(socket), 'open');
    socket.send('only one');
    await until(() => drops.length === 1, 'the drop');
    expect(drops).toEqual([{ message: 'only one', reason: 'lost', wasSent: true }]);
    expect(got).toEqual(['only one']);
  });
});
