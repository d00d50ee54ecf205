import { describe, expect, it } from 'vitest';
import { opened } from '../../src/index.js';
import { FAST, socketFactory } from '../helpers/socket.js';
import { nextEvent, sleep, startServer, waitFor } from '../helpers/servers.js';

// Regression: send() while open calls the inner socket's send(); if that throws, the message is queued "instead"
// (reconnecting-socket.ts:229-235). A message the inner socket can never take (ws throws a TypeError for a
// value it cannot turn into a Buffer) then sits at the head of the queue. While open, send() queues whenever the
// queue is not empty, and the backlog is flushed only on the next open, where the flush stops at the same
// message again. One bad message silently wedges every later send() on this and every later connection.

const createSocket = socketFactory(FAST);

describe('a message the inner socket refuses', () => {
  it('does not hold back the messages sent after it, on this connection or the next', async () => {
    const server = await startServer({ echo: false });
    const socket = createSocket<any, any>(server.url);
    await opened(socket, { timeoutMs: 5000 });
    const poison = socket.send(true as any);
    expect.soft(poison, 'result for a message that can never be sent').toBe('failed');
    const after = socket.send('after');
    await sleep(300);
    expect.soft(after, 'result for a valid message sent while open').toBe('sent');
    // Give the flush a chance on a fresh connection too.
    const reopened = nextEvent(socket, 'open', 5000);
    socket.reconnect();
    await reopened;
    await waitFor(() => server.received.includes('after'), 3000, '"after" to reach the server').catch(() => {});
    expect(server.received, 'what the server received').toContain('after');
    expect(socket.queued.map((item) => item.message), 'what is stuck in the queue while open').toEqual([]);
  });
});
