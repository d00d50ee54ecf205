import { describe, expect, it } from 'vitest';
import { startResumeServer, resumable, until, next } from '../helpers/resume.js';

describe('resume: basics', () => {
  it('opens a new session, echoes, and reports delivery', async () => {
    const server = await startResumeServer({ onSession: (s) => s.on('message', ({ data, isBinary }) => s.send(data, { binary: isBinary })) });
    const socket = resumable(server.url);
    const opens: unknown[] = [];
    socket.on('open', (event) => opens.push(event));
    const delivered: unknown[] = [];
    socket.on('delivered', ({ message }) => delivered.push(message));
    const received: unknown[] = [];
    socket.on('message', ({ data }) => received.push(data));
    await next(socket.on.bind(socket), 'open');
    expect(opens).toEqual([{ attempt: 0, protocol: '', recovered: false, resume: 'new', missed: 0 }]);
    expect(socket.send('a')).toBe('sent');
    expect(socket.send(new Uint8Array([0xc1, 2, 3]))).toBe('sent');
    await until(() => received.length === 2 && delivered.length === 2, 'echo and delivery');
    expect(received[0]).toBe('a');
    expect([...new Uint8Array(received[1] as ArrayBuffer)]).toEqual([0xc1, 2, 3]);
    socket.reconnect();
    await until(() => opens.length === 2, 'second open');
    expect(opens[1]).toMatchObject({ recovered: true, resume: 'resumed', missed: 0 });
    expect(server.sessions).toHaveLength(1);
    expect(server.errors).toEqual([]);
  });
});
