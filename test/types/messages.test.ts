import { describe, expectTypeOf, it } from 'vitest';
import {
  ReconnectingSocket,
  jsonCodec,
  rawCodec,
  type Codec,
  type IsWireTyped,
  type RawMessage,
  type ReconnectingSocketOptions,
  type WireData,
} from '../../src/index.js';

// Type tests for the message generics and the codecs: `tsc --noEmit` (npm test) checks every line, including
// that each @ts-expect-error still marks an error. At run time the sockets are created idle and disposed at once.

type Incoming = { type: 'price'; topic: string; value: number };
type Outgoing = { type: 'subscribe'; topic: string };

const URL_ = 'ws://127.0.0.1:9';
const IDLE = { autoConnect: false } as const;

function idle<In, Out>(socket: ReconnectingSocket<In, Out>): ReconnectingSocket<In, Out> {
  socket.dispose();
  return socket;
}

describe('jsonCodec', () => {
  it('used as it is, types messages as unknown, not any', () => {
    const socket = idle(new ReconnectingSocket(URL_, { ...IDLE, codec: jsonCodec }));
    expectTypeOf(socket).toEqualTypeOf<ReconnectingSocket<unknown, unknown>>();
    socket.on('message', ({ data }) => {
      expectTypeOf(data).toEqualTypeOf<unknown>();
      // @ts-expect-error an unknown message must be narrowed before use
      void data.type;
    });
    socket.send({ anything: 'json' });
  });

  it('called with types, returns the codec typed with them', () => {
    expectTypeOf(jsonCodec<Incoming, Outgoing>()).toEqualTypeOf<Codec<Incoming, Outgoing>>();
    expectTypeOf(jsonCodec()).toEqualTypeOf<Codec<unknown, unknown>>();
    const socket = idle(new ReconnectingSocket(URL_, { ...IDLE, codec: jsonCodec<Incoming, Outgoing>() }));
    expectTypeOf(socket).toEqualTypeOf<ReconnectingSocket<Incoming, Outgoing>>();
    socket.on('message', ({ data }) => expectTypeOf(data.value).toEqualTypeOf<number>());
    // @ts-expect-error not an outgoing message
    socket.send({ type: 'price', topic: 'x', value: 1 });
  });

  it('serves explicit type arguments, as the README shows', () => {
    const socket = idle(new ReconnectingSocket<Incoming, Outgoing>(URL_, { ...IDLE, codec: jsonCodec }));
    socket.on('message', ({ data }) => expectTypeOf(data).toEqualTypeOf<Incoming>());
    expectTypeOf(socket.send).parameter(0).toEqualTypeOf<Outgoing>();
  });

  it('is one shared object: calling it allocates nothing', () => {
    expectTypeOf(jsonCodec.decode('1')).toEqualTypeOf<unknown>();
    expectTypeOf(jsonCodec.encode).parameter(0).toEqualTypeOf<unknown>();
  });
});

describe('a codec is required for message types that are not wire data', () => {
  // Misuse is only type-checked: these functions never run.
  it('types of your own need one', () => {
    void (() => {
      // @ts-expect-error no options, so no codec: raw frames are not Incoming
      new ReconnectingSocket<Incoming, Outgoing>(URL_);
      // @ts-expect-error options without a codec
      new ReconnectingSocket<Incoming, Outgoing>(URL_, IDLE);
      // @ts-expect-error a codec of other types
      new ReconnectingSocket<Incoming, Outgoing>(URL_, { ...IDLE, codec: rawCodec });
      // @ts-expect-error only In given: Out is unknown, which is not wire data either
      new ReconnectingSocket<Incoming>(URL_, IDLE);
      // @ts-expect-error unknown out, no codec: an object would fail to send at run time
      new ReconnectingSocket<unknown, unknown>(URL_, IDLE);
    });
  });

  it('wire types and the defaults do not', () => {
    expectTypeOf(idle(new ReconnectingSocket(URL_, IDLE))).toEqualTypeOf<ReconnectingSocket<RawMessage, WireData>>();
    expectTypeOf(idle(new ReconnectingSocket<string, string>(URL_, IDLE))).toEqualTypeOf<ReconnectingSocket<string, string>>();
    expectTypeOf(idle(new ReconnectingSocket<ArrayBuffer, ArrayBuffer>(URL_, IDLE))).toEqualTypeOf<ReconnectingSocket<ArrayBuffer, ArrayBuffer>>();
    expectTypeOf(idle(new ReconnectingSocket<unknown, WireData>(URL_, IDLE))).toEqualTypeOf<ReconnectingSocket<unknown, WireData>>();
    expectTypeOf(idle(new ReconnectingSocket(URL_, { ...IDLE, codec: rawCodec }))).toEqualTypeOf<ReconnectingSocket<RawMessage, WireData>>();
    expectTypeOf<IsWireTyped<string, Uint8Array>>().toEqualTypeOf<true>();
    expectTypeOf<IsWireTyped<Incoming, string>>().toEqualTypeOf<false>();
    expectTypeOf<IsWireTyped<string, Outgoing>>().toEqualTypeOf<false>();
  });

  it('given only In, Out is unknown (whatever the codec accepts), not wire data', () => {
    const socket = idle(new ReconnectingSocket<Incoming>(URL_, { ...IDLE, codec: jsonCodec }));
    expectTypeOf(socket).toEqualTypeOf<ReconnectingSocket<Incoming, unknown>>();
    socket.send({ type: 'anything' });
  });

  it('options typed apart keep the defaults of the socket', () => {
    const options: ReconnectingSocketOptions = { ...IDLE, heartbeat: false };
    expectTypeOf(idle(new ReconnectingSocket(URL_, options))).toEqualTypeOf<ReconnectingSocket<RawMessage, WireData>>();
    const typed: ReconnectingSocketOptions<Incoming, Outgoing> = { ...IDLE, codec: jsonCodec };
    // @ts-expect-error the codec is optional in the options type, so the socket cannot rely on it
    void (() => new ReconnectingSocket(URL_, typed));
    const withCodec = { ...typed, codec: jsonCodec<Incoming, Outgoing>() };
    expectTypeOf(idle(new ReconnectingSocket(URL_, withCodec))).toEqualTypeOf<ReconnectingSocket<Incoming, Outgoing>>();
  });

  it('a generic wrapper passes the requirement on', () => {
    const open = <In, Out>(options: ReconnectingSocketOptions<In, Out> & { codec: Codec<In, Out> }) => new ReconnectingSocket<In, Out>(URL_, options);
    expectTypeOf(idle(open({ ...IDLE, codec: jsonCodec<Incoming, Outgoing>() }))).toEqualTypeOf<ReconnectingSocket<Incoming, Outgoing>>();
    // @ts-expect-error optional options cannot promise a codec for any In and Out
    void (<In, Out>(options?: ReconnectingSocketOptions<In, Out>) => new ReconnectingSocket<In, Out>(URL_, options));
  });
});
