import { SocketError } from './errors.js';
import type { CloseRecord } from './machine.js';
import { CLOSED, utf8Length, type WebSocketLike } from './transport.js';

/**
 * What a bound socket reports, already translated into this library's terms. One callback rather than an
 * object of them, so each socket instance holds one closure for all its connections.
 * - `open`; `error` with a SocketError; `close` with the close record (its `error` is the last error reported);
 * - `message` with text as a string and binary as an ArrayBuffer or Blob (per `binaryType`);
 * - `late-error`: an error from the socket after it was retired, absorbed, never thrown.
 */
export interface SocketListener {
  (kind: 'open'): void;
  (kind: 'error', error: SocketError): void;
  (kind: 'close', close: CloseRecord): void;
  (kind: 'message' | 'late-error', value: unknown): void;
}

/**
 * Listens to a socket's open, error, close and message events. Returns the function that detaches every
 * listener and retires the socket (forces it down and absorbs its late errors).
 */
export function bindSocket(socket: WebSocketLike, binaryType: string, notify: SocketListener): () => void {
  let lastError: SocketError | undefined;
  let isDetached = false;
  /** The close code of a protocol error this side detected (RFC 6455 §7.1.7), once the connection is failed. */
  let failedWith: number | undefined;
  try {
    socket.binaryType = binaryType;
  } catch {
    // Some implementations have a read-only binaryType; the codec still gets what arrives.
  }
  const onOpen = () => notify('open');
  const onError = (event: { error?: unknown; message?: string } | Error) => {
    const cause = (event as { error?: unknown }).error ?? event;
    // Browsers deliberately give error events no detail; the close event that follows says how it ended.
    const detail = cause instanceof Error ? cause.message : (event as { message?: string }).message ?? 'no detail (browsers give none; see the close event)';
    lastError = new SocketError('SOCKET_ERROR', `the WebSocket reported an error: ${detail}`, { cause });
    const protocolCode = failedWith === undefined ? protocolErrorCode(cause) : undefined;
    notify('error', lastError);
    // We failed the connection ourselves (bad frame, invalid UTF-8, too big): it is over now, with that code.
    // Waiting for the close event could take ws's 30 s close timer when the peer does not answer.
    if (protocolCode !== undefined && !isDetached) {
      failedWith = protocolCode;
      notify('close', { code: protocolCode, reason: '', wasClean: false, cause: 'protocol', error: lastError });
    }
  };
  const onClose = (event: { code?: number; reason?: string; wasClean?: boolean }) => {
    if (failedWith !== undefined) return;
    const code = typeof event?.code === 'number' ? event.code : 1006;
    notify('close', {
      code,
      reason: String(event?.reason ?? ''),
      wasClean: Boolean(event?.wasClean),
      cause: code === 1006 ? 'network' : 'server',
      ...(lastError && { error: lastError }),
    });
  };
  // Node `ws` has its own events, which skip the wrapper objects addEventListener builds; `close` stays a
  // WHATWG event there because only it carries wasClean.
  const isWs = typeof socket.on === 'function' && typeof socket.off === 'function';
  const onMessage: (...args: any[]) => void = isWs
    ? (data: { toString(): string }, isBinary: boolean) => notify('message', isBinary ? data : data.toString())
    : (event: { data: unknown }) => notify('message', event.data);
  if (isWs) {
    socket.on!('open', onOpen);
    socket.on!('error', onError);
    socket.on!('message', onMessage);
  } else {
    socket.addEventListener('open', onOpen);
    socket.addEventListener('error', onError);
    socket.addEventListener('message', onMessage);
  }
  socket.addEventListener('close', onClose);
  return () => {
    isDetached = true;
    socket.removeEventListener('close', onClose);
    if (isWs) {
      socket.off!('open', onOpen);
      socket.off!('error', onError);
      socket.off!('message', onMessage);
    } else {
      socket.removeEventListener('open', onOpen);
      socket.removeEventListener('error', onError);
      socket.removeEventListener('message', onMessage);
    }
    retire(socket, (error) => notify('late-error', error));
  };
}

/**
 * The close code for a protocol error that `ws` detected in the peer's frames (its `WS_ERR_*` errors carry it
 * under a private symbol): 1002 protocol error, 1007 invalid data, 1009 too big. `undefined` for other errors.
 */
function protocolErrorCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('WS_ERR_')) return undefined;
  const key = Object.getOwnPropertySymbols(error).find((symbol) => symbol.description === 'status-code');
  const status = key && (error as Record<symbol, unknown>)[key];
  if (typeof status === 'number') return status;
  return code === 'WS_ERR_INVALID_UTF8' ? 1007 : code.endsWith('_LENGTH') ? 1009 : 1002;
}

/** Detaches a socket for good: a no-op error listener absorbs late errors, and the socket is forced down. */
function retire(socket: WebSocketLike, onLateError: (event: unknown) => void): void {
  socket.addEventListener('error', onLateError);
  if (socket.readyState === CLOSED) return;
  try {
    if (typeof socket.terminate === 'function') socket.terminate();
    else socket.close();
  } catch (error) {
    onLateError(error);
  }
}

/** Checks the arguments of `close()`; throws a TypeError or RangeError that says what to change. */
export function checkClose(code: unknown, reason: unknown): void {
  if (typeof code !== 'number') throw new TypeError(`close(): code must be a number, got ${typeof code} ${JSON.stringify(code)}.`);
  if (!Number.isInteger(code) || (code !== 1000 && code !== 1001 && (code < 3000 || code > 4999))) {
    // RFC 6455 §7.4: other codes are reserved for the protocol or must not be sent by an endpoint.
    throw new RangeError(`close(): code must be 1000, 1001 or an integer from 3000 to 4999, got ${code}.`);
  }
  if (typeof reason !== 'string') throw new TypeError(`close(): reason must be a string, got ${typeof reason}.`);
  const bytes = utf8Length(reason);
  if (bytes > 123) {
    // RFC 6455 §5.5: a control frame payload is at most 125 bytes, 2 of which carry the code.
    throw new RangeError(`close(): reason must be at most 123 UTF-8 bytes, got ${bytes}. Shorten it.`);
  }
}
