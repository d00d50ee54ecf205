import { describe, expectTypeOf, it } from 'vitest';
import PartySocket, { CloseEvent, ErrorEvent, type Message, type Options } from '../../src/compat/partysocket-ws.js';
import ReconnectingWebSocket from '../../src/compat/reconnecting-websocket.js';

// Type tests: checked by `tsc --noEmit`. At run time the sockets start closed and never connect.

describe('compat types', () => {
  it('send(): boolean in partysocket, void in reconnecting-websocket; both take the same messages', () => {
    const party = new PartySocket('ws://127.0.0.1:9', undefined, { startClosed: true });
    const rws = new ReconnectingWebSocket('ws://127.0.0.1:9', undefined, { startClosed: true });
    expectTypeOf(party.send).returns.toEqualTypeOf<boolean>();
    expectTypeOf(rws.send).returns.toEqualTypeOf<void>();
    expectTypeOf(party.send).parameter(0).toEqualTypeOf<Message>();
    expectTypeOf(party.drainQueuedMessages()).toEqualTypeOf<Message[]>();
    // Harmless on reconnecting-websocket's flavour (one implementation for both).
    expectTypeOf(rws.drainQueuedMessages()).toEqualTypeOf<Message[]>();
    // @ts-expect-error a number is not a message
    party.send(42);
  });

  it('listeners get typed events; handleEvent objects are accepted; unknown types get Event', () => {
    const socket = new PartySocket('ws://127.0.0.1:9', undefined, { startClosed: true });
    socket.addEventListener('close', (event) => expectTypeOf(event).toEqualTypeOf<CloseEvent>());
    socket.addEventListener('error', (event) => expectTypeOf(event.error).toEqualTypeOf<Error>());
    socket.addEventListener('message', (event) => expectTypeOf(event).toEqualTypeOf<MessageEvent>());
    socket.addEventListener('open', { handleEvent: (event) => expectTypeOf(event).toEqualTypeOf<Event>() });
    socket.addEventListener('custom', (event) => expectTypeOf(event).toEqualTypeOf<Event>());
    socket.onclose = (event) => expectTypeOf(event.code).toEqualTypeOf<number>();
    socket.onerror = (event) => expectTypeOf(event).toEqualTypeOf<ErrorEvent>();
  });

  it('the constructor takes providers and the options of both libraries', () => {
    const options: Options = { maxRetries: 3, shouldReconnectOnClose: (event) => event.code !== 4000, debugLogger: () => {}, startClosed: true };
    new ReconnectingWebSocket(async () => 'ws://127.0.0.1:9', () => Promise.resolve(['a']), options);
    new PartySocket(new URL('ws://127.0.0.1:9'), null, options);
    // @ts-expect-error protocols are strings
    new PartySocket('ws://127.0.0.1:9', 42, { startClosed: true });
    expectTypeOf(PartySocket.CLOSED).toEqualTypeOf<number>();
  });
});
