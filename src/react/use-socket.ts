import { useEffect, useLayoutEffect, useRef, useSyncExternalStore } from 'react';
import { checkHookKey } from '#checks';
import { ReconnectingSocket, type RawMessage as Raw, type ReconnectingSocketOptions, type UrlProvider, type WireData } from '../index.js';
import { SocketBinding, type SocketHandlers, type SocketView } from './binding.js';
import { SocketPool } from './pool.js';

/** What only the hook reads; everything else goes to the socket. */
export interface UseSocketOwnOptions<In> extends SocketHandlers<In> {
  /**
   * Whether there should be a socket at all. `false` closes it (and a `null` url does the same); `true` again
   * makes a new one.
   * @default true
   */
  enabled?: boolean;
  /**
   * Share one socket among every component that asks for the same url (and `key`), across the whole app. The
   * first component's options make the socket; it closes when the last component using it unmounts.
   * @default false
   */
  shared?: boolean;
  /**
   * Part of the socket's identity besides the url: a new `key` replaces the socket (the way to apply changed
   * socket options), and shared sockets with different keys are separate. A shared socket with a url function
   * needs one.
   * @default undefined
   */
  key?: string;
}

/**
 * The options of `useSocket`: the hook's own (`enabled`, `shared`, `key`, the `on…` handlers) and every option
 * of `ReconnectingSocket`. Socket options are read when the socket is made; handlers at each event.
 */
export type UseSocketOptions<In = Raw, Out = [In] extends [Raw] ? WireData : unknown> = UseSocketOwnOptions<In> & ReconnectingSocketOptions<In, Out>;

/** Every hook's sockets, shared or not: private ones are keyed by their hook, so they are never found by others. */
const pool = new SocketPool();
let nextHookId = 0;

// Refs are updated after render, not during it (a render may be thrown away); no layout effects on the server.
const useIsomorphicLayoutEffect = typeof document === 'undefined' ? useEffect : useLayoutEffect;

interface HookState<In, Out> {
  readonly id: number;
  readonly binding: SocketBinding<In, Out>;
  url: UrlProvider | null | undefined;
  options: UseSocketOptions<In, Out>;
}

/**
 * The identity of the socket a hook wants, or `undefined` for none. A url function counts by kind, not by
 * identity: a new function each render does not reconnect (the latest one is called before each attempt).
 */
function socketKey(id: number, url: UrlProvider | null | undefined, options: UseSocketOptions<any, any>): string | undefined {
  if (url == null || url === '' || options.enabled === false) return undefined;
  const target = typeof url === 'function' ? null : String(url);
  checkHookKey(!!options.shared && target === null && options.key === undefined);
  return JSON.stringify([options.shared ? 'shared' : id, options.key ?? null, target]);
}

function createSocket<In, Out>(hook: HookState<In, Out>): ReconnectingSocket<In, Out> {
  const { url, options } = hook;
  // The hook's own options stay here; the rest go to the socket.
  const { enabled, shared, key, onOpen, onMessage, onClose, onError, ...socketOptions } = options;
  // A url function is called through the hook, so the one from the latest render is used.
  const target: UrlProvider = typeof url === 'function' ? (context) => (typeof hook.url === 'function' ? hook.url(context) : (hook.url ?? '')) : url!;
  const Socket = ReconnectingSocket as unknown as new (url: UrlProvider, options: ReconnectingSocketOptions<In, Out>) => ReconnectingSocket<In, Out>;
  return new Socket(target, socketOptions as ReconnectingSocketOptions<In, Out>);
}

/**
 * A `ReconnectingSocket` for a component: made in an effect, closed (with the bounded handshake, then disposed)
 * when the component unmounts, when `enabled` turns `false`, or when `url` or `key` change, which make a new
 * one. StrictMode's mount → cleanup → mount reuses the same socket, so the server sees one connection. New
 * handler functions each render never reconnect. With `shared: true`, components asking for the same url share
 * one socket, closed when the last of them unmounts.
 *
 * @param url A `ws:`/`wss:` URL, or a function called before every attempt (fresh tokens); `null` for none.
 * @returns The live view: `state`, `lastMessage`, `send` and more (see {@link SocketView}).
 *
 * @example
 * ```ts
 * function Prices() {
 *   const { state, lastMessage, send } = useSocket<Price, Command>('wss://example.com/prices', {
 *     codec: jsonCodec,
 *     onOpen: () => send({ type: 'subscribe', topic: 'prices' }),
 *   });
 *   return createElement('p', null, state === 'open' ? lastMessage?.value : state);
 * }
 * ```
 */
export function useSocket<In = Raw, Out = [In] extends [Raw] ? WireData : unknown>(
  url: UrlProvider | null | undefined,
  options: UseSocketOptions<In, Out> = {},
): SocketView<In, Out> {
  const ref = useRef<HookState<In, Out> | null>(null);
  if (ref.current === null) {
    const hook: HookState<In, Out> = { id: ++nextHookId, url, options, binding: new SocketBinding<In, Out>(() => hook.options) };
    ref.current = hook;
  }
  const hook = ref.current;
  const { binding } = hook;
  const key = socketKey(hook.id, url, options);

  useIsomorphicLayoutEffect(() => {
    hook.url = url;
    hook.options = options;
  });

  const snapshot = useSyncExternalStore(binding.subscribe, binding.getSnapshot, binding.getSnapshot);

  useEffect(() => {
    if (key === undefined) return undefined;
    const socket = pool.acquire(key, () => createSocket(hook));
    binding.attach(key, socket);
    return () => {
      binding.detach();
      pool.release(key, socket);
    };
  }, [key, hook, binding]);

  // Until the effect has caught up with a new key (first render, url changed), show the socket to come.
  return snapshot.key === key ? snapshot.view : binding.idleView(key !== undefined);
}
