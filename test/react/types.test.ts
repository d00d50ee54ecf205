import { describe, expectTypeOf, it } from 'vitest';
import { jsonCodec, type ReconnectingSocket, type SendResult, type StateName, type WireData } from '../../src/index.js';
import { useSocket, type SocketView } from '../../src/react/index.js';

// Type tests, checked by `tsc --noEmit`. The hooks are never called: a hook outside a component would throw.

type Price = { type: 'price'; symbol: string; value: number };
type Command = { type: 'subscribe'; topic: string };

describe('useSocket types', () => {
  it('raw messages by default; your types with a codec; handlers typed to match', () => {
    const raw = () => useSocket('wss://example.com/', { shared: true, onMessage: ({ data }) => expectTypeOf(data).toEqualTypeOf<string | ArrayBuffer | Blob>() });
    expectTypeOf<ReturnType<typeof raw>>().toEqualTypeOf<SocketView<string | ArrayBuffer | Blob, WireData>>();

    const typed = () => {
      const view = useSocket<Price, Command>('wss://example.com/', {
        codec: jsonCodec,
        onOpen: () => view.send({ type: 'subscribe', topic: 'prices' }),
        onClose: ({ willReconnect }) => expectTypeOf(willReconnect).toEqualTypeOf<boolean>(),
      });
      return view;
    };
    type View = ReturnType<typeof typed>;
    expectTypeOf<View['lastMessage']>().toEqualTypeOf<Price | undefined>();
    expectTypeOf<View['state']>().toEqualTypeOf<StateName>();
    expectTypeOf<View['socket']>().toEqualTypeOf<ReconnectingSocket<Price, Command> | undefined>();
    expectTypeOf<View['send']>().parameter(0).toEqualTypeOf<Command>();
    expectTypeOf<View['send']>().returns.toEqualTypeOf<SendResult>();
  });

  it('a url function or null; enabled and key', () => {
    expectTypeOf(useSocket).toBeCallableWith(() => 'wss://example.com/', { key: 'feed', shared: true });
    expectTypeOf(useSocket).toBeCallableWith(null);
    expectTypeOf(useSocket).toBeCallableWith('wss://example.com/', { enabled: false, initialDelayMs: 500 });
  });
});
