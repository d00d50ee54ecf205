// Both sides stream numbered messages (text and binary, some binary ones starting with the control mark 0xc1)
// through a TCP proxy that resets the connection at random points. Whatever the cuts, each side must receive
// every message of the other exactly once, in order, and the client must see every reconnect recovered.
//
// Seeded: RESUME_SEED=1234 npx vitest run test/resume/chaos.test.ts replays a failing case's content and cut
// offsets (network timing still varies).
import { describe, expect, it } from 'vitest';
import { startFaultProxy } from '../helpers/proxy.js';
import { seededRandom } from '../helpers/random.js';
import { resumable, startResumeServer, until } from '../helpers/resume.js';
import type { ResumeSession } from '../../src/server/index.js';

const SEED = Number(process.env.RESUME_SEED ?? 22);
const MESSAGES = 3000;
const MIN_CUTS = 25;
/** Most messages a side keeps in flight (well under the 1000 the buffers hold, so nothing overflows). */
const WINDOW = 300;
/** Messages a side sends per millisecond tick at most. */
const BATCH = 4;

/** Message `i` of a stream: text `t<i>`, or binary: a first byte, then `i` as 4 bytes. */
function message(random: () => number, i: number): string | Uint8Array {
  if (random() < 0.5) return `t${i}`;
  const bytes = new Uint8Array(5 + Math.floor(random() * 20));
  bytes[0] = random() < 0.3 ? 0xc1 : Math.floor(random() * 256);
  new DataView(bytes.buffer).setUint32(1, i);
  return bytes;
}

/** The index a received message carries. */
function indexOf(data: string | ArrayBuffer | Buffer, isBinary: boolean): number {
  if (!isBinary || typeof data === 'string') return Number(String(data).slice(1));
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new DataView(bytes.buffer, bytes.byteOffset).getUint32(1);
}

describe(`resume: a proxy cuts the connection while both sides stream (seed ${SEED})`, () => {
  it(`delivers ${MESSAGES} messages each way once, in order, across at least ${MIN_CUTS} cuts`, { timeout: 90_000 }, async () => {
    const random = seededRandom(SEED);
    const serverRandom = seededRandom(SEED + 1);
    const atServer: number[] = [];
    const serverDrops: unknown[] = [];
    let serverSent = 0;
    let session: ResumeSession | undefined;
    const server = await startResumeServer({
      onSession: (s) => {
        session = s;
        s.on('message', ({ data, isBinary }) => atServer.push(indexOf(data, isBinary)));
        s.on('drop', (event) => serverDrops.push(event));
      },
    });
    const pumpServer = () => {
      if (!session || session.isEnded) return;
      // A few at a time, so the streams last long enough for tens of cuts.
      for (let n = BATCH; n > 0 && serverSent < MESSAGES && session.buffered < WINDOW; n--) session.send(message(serverRandom, serverSent++));
      if (serverSent < MESSAGES) setTimeout(pumpServer, 1);
    };
    const proxy = await startFaultProxy(server.port);
    const socket = resumable<string | ArrayBuffer, string | Uint8Array>(proxy.url, { delay: () => 10 });
    const atClient: number[] = [];
    const opens: { recovered: boolean; resume: string }[] = [];
    const drops: unknown[] = [];
    let delivered = 0;
    socket.on('message', ({ data }) => atClient.push(indexOf(data, typeof data !== 'string')));
    socket.on('open', ({ recovered, resume }) => opens.push({ recovered, resume }));
    socket.on('drop', (event) => drops.push(event));
    socket.on('delivered', () => delivered++);
    // Resets surface as SOCKET_ERROR (ECONNRESET); anything from the resume layer would be a failure.
    const resumeErrors: Error[] = [];
    socket.on('error', ({ error }) => error.name === 'ResumeError' && resumeErrors.push(error));
    let clientSent = 0;
    let isDone = false;
    const pumpClient = () => {
      if (isDone) return;
      for (let n = BATCH; n > 0 && clientSent < MESSAGES && socket.unacknowledged + socket.queued.length < WINDOW; n--) socket.send(message(random, clientSent++));
      setTimeout(pumpClient, 1);
    };
    await until(() => opens.length === 1 && session !== undefined, 'the first open');
    pumpServer();
    pumpClient();

    // Cut at a random point of each connection, until both streams are through.
    let cuts = 0;
    const isComplete = () => atServer.length >= MESSAGES && atClient.length >= MESSAGES && delivered >= MESSAGES;
    while (!isComplete()) {
      await until(() => proxy.active > 0 || isComplete(), 'a connection to cut', 10_000, () => ({ cuts, atServer: atServer.length, atClient: atClient.length }));
      if (isComplete()) break;
      await new Promise((resolve) => setTimeout(resolve, 2 + Math.floor(random() * 40)));
      // Only cuts while data flows count; once both streams are through, the last ones do not matter.
      if (proxy.active > 0 && !isComplete()) {
        proxy.reset();
        cuts++;
      }
      if (cuts > 400) break;
    }
    isDone = true;
    await until(isComplete, 'both streams', 20_000, () => ({
      cuts,
      atServer: atServer.length,
      atClient: atClient.length,
      delivered,
      drops: drops.slice(0, 8).map((d: any) => `${d.reason}:${d.wasSent}`),
      resumeErrors: resumeErrors.slice(0, 3).map(String),
      serverErrors: server.errors.slice(0, 5).map(String),
      sessions: server.sessions.length,
      opens: opens.filter((o) => !o.recovered).length,
      dup: atServer.findIndex((v, i) => v !== i),
      dupc: atClient.findIndex((v, i) => v !== i),
      around: atServer.slice(Math.max(0, atServer.findIndex((v, i) => v !== i) - 3), atServer.findIndex((v, i) => v !== i) + 5),
      state: socket.state,
      unacked: socket.unacknowledged,
      queued: socket.queued.length,
      serverBuffered: session?.buffered,
      serverConnected: session?.isConnected,
    }));

    const expected = Array.from({ length: MESSAGES }, (_, i) => i);
    expect(atServer).toEqual(expected);
    expect(atClient).toEqual(expected);
    expect(delivered).toBe(MESSAGES);
    expect(drops).toEqual([]);
    expect(resumeErrors).toEqual([]);
    expect(serverDrops).toEqual([]);
    expect(server.errors).toEqual([]);
    expect(server.sessions).toHaveLength(1);
    expect(opens[0]).toEqual({ recovered: false, resume: 'new' });
    expect(opens.slice(1).filter((open) => !open.recovered)).toEqual([]);
    expect(cuts).toBeGreaterThanOrEqual(MIN_CUTS);
    expect(opens.length).toBeGreaterThan(MIN_CUTS / 2);
  });
});
