import type { CloseRecord, Codec, RawMessage, SendResult, UrlProvider } from '../index.js';
import type { LeaderSocket, LeaderSocketClass } from './options.js';
import { cloneable, type Answer, type Envelope, type Relay, type RelayedType } from './protocol.js';
import type { Succession } from './succession.js';

/** The leader's connection deals in wire data: each handle encodes and decodes with its own codec. */
const ENVELOPES: Codec<RawMessage, Envelope> = { encode: (envelope) => envelope.data, decode: (data) => data };
const RELAYED: readonly RelayedType[] = ['state', 'open', 'close', 'error', 'reconnecting', 'hold', 'heartbeat', 'message'];

/** What a leader's connection needs from the handle that leads. */
export interface LeadershipHost {
  /** Says something to every handle, the leading one included (it learns of its connection the same way). */
  broadcast(message: Relay): void;
  /** Leadership `l`'s answer for a message it was given, for the handle it came from. */
  answer(envelope: Envelope, result: Answer, l: number, wasSent?: boolean): void;
}

/**
 * The connection of leadership `l`, which a handle runs while it holds the lock: made with the `Socket` option's
 * class (public API only), its events relayed to every handle under the leadership's id, and its answers for the
 * messages it was given routed back to the handles they came from. With a resumable `Socket`, the handle's
 * `Succession` continues the session of the leadership before, and answers the rest.
 */
export function connect(Socket: LeaderSocketClass, url: UrlProvider, options: object, host: LeadershipHost, l: number, session: Succession<unknown> | undefined): LeaderSocket {
  const inner = new Socket(url, { ...options, ...session?.continues(options), autoConnect: true, codec: ENVELOPES });
  // The relays stay until the connection is disposed: what a plain one relays after its retire (messages during
  // the close handshake) still reaches the handles. A session handed over removes them (`offs`): it says no more.
  const offs = RELAYED.map((type) => inner.on(type, (event: any) => host.broadcast({ t: 'event', l, type, event: cloneable(event), attempt: inner.attempt })));
  offs.push(inner.on('drop', ({ message, reason, wasSent }) => host.answer(message, reason, l, wasSent)));
  if (session) session.began(inner, l, offs);
  else {
    // The core sends its backlog right after the `open` listeners: what left the queue then went out.
    inner.on('open', () => {
      const before = inner.queued;
      queueMicrotask(() => {
        const left = new Set(inner.queued.map((queued) => queued.message));
        for (const { message } of before) if (!left.has(message)) host.answer(message, 'sent', l);
      });
    });
  }
  return inner;
}

/** Hands a message to the leader's connection, with what is left of its time-to-live. */
export function send(inner: LeaderSocket, envelope: Envelope, ttlMs: number | undefined): SendResult {
  return inner.send(envelope, ttlMs ? { ttlMs } : undefined);
}

/**
 * Closes the leader's connection so that the server has seen it end before the lock moves on. An attempt still
 * connecting is let finish first (it is bounded by `connectTimeoutMs`): a browser that abandons a connecting
 * WebSocket reports it closed at once, while the server may already hold the upgraded connection, and the next
 * tab's connection would overlap it.
 */
export async function closeSettled(inner: LeaderSocket, code: number, reason: string): Promise<CloseRecord> {
  if (inner.state === 'connecting') {
    await new Promise((resolve) => {
      inner.once('open', resolve);
      inner.once('close', resolve);
      void inner.closed.then(resolve);
    });
  }
  return inner.close(code, reason);
}
