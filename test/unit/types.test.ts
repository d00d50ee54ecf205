import { describe, expectTypeOf, it } from 'vitest';
import { ReconnectingSocket, SocketError, jsonCodec, rawCodec, type CloseCause, type CloseRecord, type Codec, type DropReason, type ProviderContext, type QueuedMessage, type SendResult, type SocketErrorCode, type SocketEvents, type StateName, type WireData, messages, opened } from '../../src/index.js';

// Type tests: checked by `tsc --noEmit` (npm test runs it). At run time the sockets are never connected:
// each one is created with autoConnect: false and disposed at once, so this file needs no network.

type ClientMessage = { type: 'subscribe'; topic: string } | { type: 'unsubscribe'; topic: string };
type ServerMessage = { type: 'price'; topic: string; value: number };

function idle<In, Out>(socket: ReconnectingSocket<In, Out>): ReconnectingSocket<In, Out> {
  socket.dispose();
  return socket;
}

describe('generics', () => {
  it('default to raw wire data in and out', () => {
    const socket = idle(new ReconnectingSocket('ws://127.0.0.1:9', { autoConnect: false }));
    expectTypeOf(socket).toEqualTypeOf<ReconnectingSocket<string | ArrayBuffer | Blob, WireData>>();
    socket.on('message', ({ data }) => expectTypeOf(data).toEqualTypeOf<string | ArrayBuffer | Blob>());
    expectTypeOf(socket.send).parameter(0).toEqualTypeOf<WireData>();
    // @ts-expect-error a number is not wire data
    socket.send(42);
    // @ts-expect-error nor is a plain object without a codec
    socket.send({ hello: 'world' });
  });

  it('are taken from explicit type arguments and flow into every payload', () => {
    const socket = idle(new ReconnectingSocket<ServerMessage, ClientMessage>('ws://127.0.0.1:9', { autoConnect: false, codec: jsonCodec }));
    socket.on('message', (event) => {
      expectTypeOf(event.data).toEqualTypeOf<ServerMessage>();
      expectTypeOf(event.data.value).toEqualTypeOf<number>();
    });
    socket.on('drop', (event) => {
      expectTypeOf(event.message).toEqualTypeOf<ClientMessage>();
      expectTypeOf(event.reason).toEqualTypeOf<DropReason>();
    });
    expectTypeOf(socket.send).parameter(0).toEqualTypeOf<ClientMessage>();
    expectTypeOf(socket.send({ type: 'subscribe', topic: 'prices' })).toEqualTypeOf<SendResult>();
    // @ts-expect-error the wrong message shape
    socket.send({ type: 'subscribe', channel: 'prices' });
    // @ts-expect-error an incoming message is not an outgoing one
    socket.send({ type: 'price', topic: 'x', value: 1 });
    expectTypeOf(socket.queued).toEqualTypeOf<QueuedMessage<ClientMessage>[]>();
    expectTypeOf(socket.clearQueue()).toEqualTypeOf<QueuedMessage<ClientMessage>[]>();
    expectTypeOf(messages(socket)).toEqualTypeOf<AsyncIterableIterator<ServerMessage>>();
  });

  it('are inferred from a typed codec', () => {
    const codec: Codec<ServerMessage, ClientMessage> = {
      encode: (message) => JSON.stringify(message),
      decode: (data) => JSON.parse(String(data)) as ServerMessage,
    };
    const socket = idle(new ReconnectingSocket('ws://127.0.0.1:9', { autoConnect: false, codec }));
    expectTypeOf(socket).toEqualTypeOf<ReconnectingSocket<ServerMessage, ClientMessage>>();
    const raw = idle(new ReconnectingSocket('ws://127.0.0.1:9', { autoConnect: false, codec: rawCodec }));
    expectTypeOf(raw).toEqualTypeOf<ReconnectingSocket<string | ArrayBuffer | Blob, WireData>>();
  });

  it('messages() yields In in a for-await loop', async () => {
    const socket = idle(new ReconnectingSocket<ServerMessage, ClientMessage>('ws://127.0.0.1:9', { autoConnect: false, codec: jsonCodec }));
    for await (const message of messages(socket)) expectTypeOf(message).toEqualTypeOf<ServerMessage>();
  });
});

describe('event payloads', () => {
  it('match the contract', () => {
    type Events = SocketEvents<ServerMessage, ClientMessage>;
    expectTypeOf<keyof Events>().toEqualTypeOf<'open' | 'message' | 'close' | 'error' | 'state' | 'reconnecting' | 'hold' | 'drop' | 'heartbeat' | 'end'>();
    expectTypeOf<Events['end']>().toEqualTypeOf<{ readonly close: CloseRecord; readonly isDisposed: boolean }>();
    expectTypeOf<Events['open']>().toEqualTypeOf<{ readonly attempt: number; readonly protocol: string }>();
    expectTypeOf<Events['message']['data']>().toEqualTypeOf<ServerMessage>();
    expectTypeOf<Events['close']>().toMatchTypeOf<CloseRecord>();
    expectTypeOf<Events['close']['willReconnect']>().toEqualTypeOf<boolean>();
    expectTypeOf<Events['close']['delayMs']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<Events['close']['cause']>().toEqualTypeOf<CloseCause>();
    expectTypeOf<Events['close']['error']>().toEqualTypeOf<SocketError | undefined>();
    expectTypeOf<Events['error']['error']>().toEqualTypeOf<SocketError>();
    expectTypeOf<Events['state']>().toEqualTypeOf<{ readonly from: StateName; readonly to: StateName }>();
    expectTypeOf<Events['reconnecting']>().toEqualTypeOf<{ readonly attempt: number; readonly delayMs: number }>();
    expectTypeOf<Events['drop']>().toEqualTypeOf<{ readonly message: ClientMessage; readonly reason: DropReason }>();
    expectTypeOf<Events['heartbeat']>().toEqualTypeOf<{ readonly rttMs: number }>();
  });

  it('on(), once() and off() are keyed by event name', () => {
    const socket = idle(new ReconnectingSocket('ws://127.0.0.1:9', { autoConnect: false }));
    expectTypeOf(socket.on('open', () => {})).toEqualTypeOf<() => void>();
    expectTypeOf(socket.once('close', () => {})).toEqualTypeOf<() => void>();
    socket.on('error', ({ error }) => {
      expectTypeOf(error.code).toEqualTypeOf<SocketErrorCode>();
      expectTypeOf(error.data).toEqualTypeOf<unknown>();
    });
    socket.on('close', ({ code, reason, wasClean }) => {
      expectTypeOf(code).toEqualTypeOf<number>();
      expectTypeOf(reason).toEqualTypeOf<string>();
      expectTypeOf(wasClean).toEqualTypeOf<boolean>();
    });
    const onState = (event: { from: StateName; to: StateName }) => void event;
    socket.off('state', onState);
    // @ts-expect-error not an event of the socket
    socket.on('connected', () => {});
    // @ts-expect-error the payload of open has no data
    socket.on('open', (event) => event.data);
  });

  it('SocketErrorCode and the unions are the documented ones', () => {
    expectTypeOf<SocketErrorCode>().toEqualTypeOf<
      'CONNECT_TIMEOUT' | 'CLOSE_TIMEOUT' | 'HEARTBEAT_TIMEOUT' | 'PROVIDER_FAILED' | 'SOCKET_ERROR' | 'DECODE_FAILED' | 'ENCODE_FAILED' | 'LISTENER_THREW' | 'CALLBACK_THREW' | 'SEND_FAILED' | 'ABORTED' | 'DISPOSED' | 'CLOSED' | 'TIMEOUT'
    >();
    expectTypeOf<SendResult>().toEqualTypeOf<'sent' | 'queued' | 'dropped' | 'rejected' | 'closed' | 'disposed' | 'failed'>();
    expectTypeOf<DropReason>().toEqualTypeOf<'overflow' | 'expired' | 'closed' | 'disposed' | 'failed'>();
    expectTypeOf<StateName>().toEqualTypeOf<'connecting' | 'open' | 'closing' | 'closed'>();
    expectTypeOf<CloseCause>().toEqualTypeOf<
      'server' | 'network' | 'protocol' | 'refused' | 'client' | 'connect-timeout' | 'close-timeout' | 'heartbeat-timeout' | 'provider' | 'reconnect' | 'dispose' | 'pagehide'
    >();
  });
});

describe('methods and properties', () => {
  it('have the contract types', () => {
    const socket = idle(new ReconnectingSocket<ServerMessage, ClientMessage>('ws://127.0.0.1:9', { autoConnect: false, codec: jsonCodec }));
    expectTypeOf(socket.state).toEqualTypeOf<StateName>();
    expectTypeOf(socket.attempt).toEqualTypeOf<number>();
    expectTypeOf(socket.lastClose).toEqualTypeOf<CloseRecord | undefined>();
    expectTypeOf(socket.rttMs).toEqualTypeOf<number | undefined>();
    expectTypeOf(socket.bufferedAmount).toEqualTypeOf<number>();
    expectTypeOf(socket.isDisposed).toEqualTypeOf<boolean>();
    expectTypeOf(socket.closed).toEqualTypeOf<Promise<CloseRecord>>();
    expectTypeOf(socket.close).returns.toEqualTypeOf<Promise<CloseRecord>>();
    expectTypeOf(opened).returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf(opened).parameter(1).toEqualTypeOf<{ signal?: AbortSignal; timeoutMs?: number } | undefined>();
    expectTypeOf(messages(socket)).toEqualTypeOf<AsyncIterableIterator<ServerMessage>>();
    expectTypeOf(socket.send).parameter(1).toEqualTypeOf<{ ttlMs?: number } | undefined>();
    expectTypeOf(socket.dispose).returns.toEqualTypeOf<void>();
    expectTypeOf(socket[Symbol.dispose]).returns.toEqualTypeOf<void>();
    expectTypeOf(socket[Symbol.asyncDispose]).returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf<QueuedMessage<ClientMessage>>().toEqualTypeOf<{
      readonly message: ClientMessage;
      readonly data: WireData;
      readonly bytes: number;
      readonly queuedAt: number;
      readonly expiresAt: number | undefined;
    }>();
  });

  it('providers receive { signal, attempt } and may be async', () => {
    expectTypeOf<ProviderContext>().toEqualTypeOf<{ readonly signal: AbortSignal; readonly attempt: number }>();
    const socket = idle(
      new ReconnectingSocket(async ({ signal, attempt }) => `ws://127.0.0.1:9/${attempt}?aborted=${signal.aborted}`, {
        autoConnect: false,
        protocols: ({ attempt }) => (attempt > 0 ? ['v2'] : 'v1'),
        headers: async () => ({ authorization: 'Bearer x' }),
      }),
    );
    expectTypeOf(socket).toEqualTypeOf<ReconnectingSocket<string | ArrayBuffer | Blob, WireData>>();
    // @ts-expect-error a url provider must produce a string or URL
    idle(new ReconnectingSocket(() => 42, { autoConnect: false }));
  });

  it('the socket is usable with `using`', () => {
    {
      using socket = new ReconnectingSocket('ws://127.0.0.1:9', { autoConnect: false });
      expectTypeOf(socket).toMatchTypeOf<Disposable>();
      expectTypeOf(socket).toMatchTypeOf<AsyncDisposable>();
    }
  });
});
