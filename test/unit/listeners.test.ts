import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeSocket, createQuietSocket, flushMicrotasks, useFakeSockets } from '../helpers/fake-socket.js';
import type { ReconnectingSocket } from '../../src/index.js';

// The listener contract of on/once/off (STYLE.md, after mitt), through the socket: an event goes out to the
// listeners registered when it started, an unsubscribe is safe to call twice, a throwing listener never skips the
// others, and events go out one at a time, never nested.

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('listeners', () => {
  const created = useFakeSockets<ReconnectingSocket<any, any>>();

  async function openSocket() {
    const { socket } = createQuietSocket(created);
    await flushMicrotasks();
    const inner = FakeSocket.latest();
    inner.serverOpen();
    return { socket, inner };
  }

  it('a listener that removes itself during an event does not make the next one miss it', async () => {
    const { socket, inner } = await openSocket();
    const heard: string[] = [];
    const off = socket.on('message', () => {
      heard.push('first');
      off();
    });
    socket.on('message', () => heard.push('second'));
    inner.serverMessage('a');
    inner.serverMessage('b');
    expect(heard).toEqual(['first', 'second', 'second']);
  });

  it('a listener added during an event hears only the next one', async () => {
    const { socket, inner } = await openSocket();
    const heard: string[] = [];
    let isAdded = false;
    socket.on('message', ({ data }) => {
      heard.push(`adder ${data}`);
      if (isAdded) return;
      isAdded = true;
      socket.on('message', ({ data }) => heard.push(`late ${data}`));
    });
    // A second listener: the event goes out over a list, which adding to must not change under it.
    socket.on('message', ({ data }) => heard.push(`other ${data}`));
    inner.serverMessage('a');
    inner.serverMessage('b');
    expect(heard).toEqual(['adder a', 'other a', 'adder b', 'other b', 'late b']);
  });


  it('calling one unsubscribe twice removes only its own registration of a listener added twice', async () => {
    const { socket, inner } = await openSocket();
    let calls = 0;
    const listener = () => calls++;
    const off = socket.on('message', listener);
    socket.on('message', listener);
    off();
    off();
    inner.serverMessage('a');
    expect(calls).toBe(1);
  });

  it('once(): a listener whose call makes the same event again is not called a second time', async () => {
    const { socket, inner } = await openSocket();
    let calls = 0;
    socket.once('state', () => {
      calls++;
      socket.reconnect(); // another state event, which goes out after this one
    });
    inner.serverDrop();
    expect(calls).toBe(1);
  });

  it('events go out one at a time: what a listener causes comes after the event it handles, never inside it', async () => {
    const { socket, inner } = await openSocket();
    const log: string[] = [];
    socket.on('message', ({ data }) => {
      log.push(`message ${data} start`);
      if (data === 'a') socket.reconnect();
      log.push(`message ${data} end`);
    });
    socket.on('close', ({ cause }) => log.push(`close ${cause}`));
    socket.on('state', ({ from, to }) => log.push(`state ${from}>${to}`));
    inner.serverMessage('a');
    expect(log).toEqual(['message a start', 'message a end', 'close reconnect', 'state open>connecting']);
  });

  it('an error listener that throws is reported once as uncaught, not fed back to itself', async () => {
    const reportError = vi.fn();
    vi.stubGlobal('reportError', reportError);
    const { socket, inner } = await openSocket();
    let calls = 0;
    socket.on('error', () => {
      calls++;
      throw new Error('broken error listener');
    });
    socket.on('message', () => {
      throw new Error('broken message listener');
    });
    inner.serverMessage('a');
    expect(calls).toBe(1);
    expect(reportError).toHaveBeenCalledTimes(1);
    expect(reportError.mock.calls[0]![0]).toMatchObject({ code: 'LISTENER_THREW', message: expect.stringContaining('"error" listener threw') });
  });

  it('two once() listeners for the same event both run, once', async () => {
    const { socket, inner } = await openSocket();
    const calls: string[] = [];
    socket.once('close', () => calls.push('first'));
    socket.once('close', () => calls.push('second'));
    inner.serverDrop();
    vi.advanceTimersByTime(1000);
    FakeSocket.latest().serverOpen();
    FakeSocket.latest().serverDrop();
    expect(calls).toEqual(['first', 'second']);
  });
});
