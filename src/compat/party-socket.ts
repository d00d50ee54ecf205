/**
 * `PartySocket`: partysocket's client for a PartyKit room (or any server laid out the same way), on the
 * partysocket-flavoured `ReconnectingWebSocket`. Its own module, so that importing only the reconnecting class
 * does not bring it into a bundle.
 */
import type { Options, ProtocolsProvider } from './options.js';
import { ReconnectingWebSocket } from './partysocket-ws.js';

/** Query parameters; `null` and `undefined` values are left out. */
export type Params = Record<string, string | null | undefined>;

/** Query parameters, or a function (sync or async) called before every attempt, so tokens stay fresh. */
export type QueryProvider = Params | (() => Params | Promise<Params>);

/** partysocket's options: where the room is, and the `ReconnectingWebSocket` options. */
export interface PartySocketOptions extends Options {
  /**
   * The connection id, sent as the `_pk` query parameter.
   * @default crypto.randomUUID()
   */
  id?: string;
  /** The server: `host[:port]`, with or without `ws://`, `wss://`, `http://` or `https://` (dropped). */
  host: string;
  /**
   * The room. Needed to connect unless `basePath` is given.
   * @default undefined
   */
  room?: string;
  /**
   * The party (the server-side handler).
   * @default 'main'
   */
  party?: string;
  /**
   * The path after the host, instead of `<prefix>/<party>/<room>`.
   * @default undefined
   */
  basePath?: string;
  /**
   * The first path segment before the party.
   * @default 'parties'
   */
  prefix?: string;
  /**
   * `ws` or `wss`.
   * @default 'ws' for localhost, 127.0.0.1 and private addresses (with a port where it is localhost or 127.0.0.1), else 'wss'
   */
  protocol?: 'ws' | 'wss';
  /**
   * Subprotocols, or their provider.
   * @default undefined
   */
  protocols?: ProtocolsProvider;
  /**
   * A path appended to the room's URL, without a leading slash.
   * @default undefined
   */
  path?: string;
  /**
   * Query parameters, or their provider (called before every attempt).
   * @default undefined
   */
  query?: QueryProvider;
  /**
   * No warning for a party or room name with a `/`.
   * @default false
   */
  disableNameValidation?: boolean;
}

/** Where `PartySocket.fetch()` sends its request. */
export interface PartyFetchOptions {
  host: string;
  room: string;
  party?: string;
  basePath?: string;
  prefix?: string;
  path?: string;
  /**
   * `http` or `https`.
   * @default 'http' for localhost and private addresses, else 'https'
   */
  protocol?: 'http' | 'https';
  query?: QueryProvider;
  /**
   * The fetch function.
   * @default globalThis.fetch
   */
  fetch?: typeof fetch;
}

const LOCAL = /^(localhost:|127\.0\.0\.1:|192\.168\.|10\.|172\.(1[6-9]|2\d|3[01])\.|\[::ffff:7f00:1\]:)/;

type Address = Pick<PartySocketOptions, 'host' | 'room' | 'party' | 'basePath' | 'prefix' | 'path' | 'query'> & { protocol?: string };

/** The room's URL (without query) and the URL, or its provider, for each attempt. */
function locate(options: Address, scheme: 'ws' | 'http', params: Params = {}) {
  const host = options.host.replace(/^(http|https|ws|wss):\/\//, '').replace(/\/$/, '');
  if (options.path?.startsWith('/')) throw new Error(`PartySocket: path must not start with a slash, got "${options.path}".`);
  const name = options.party ?? 'main';
  const path = options.path ? `/${options.path}` : '';
  const roomUrl = `${options.protocol || (LOCAL.test(host) ? scheme : `${scheme}s`)}://${host}/${options.basePath || `${options.prefix || 'parties'}/${name}/${options.room}`}${path}`;
  const withQuery = (query: Params = {}) => `${roomUrl}?${new URLSearchParams([...Object.entries(params), ...Object.entries(query).filter(([, value]) => value != null)] as string[][])}`;
  const query = options.query;
  return { host, path, name, roomUrl, url: typeof query === 'function' ? async () => withQuery(await query()) : withQuery(query) };
}

/** A random UUID, also where `crypto.randomUUID` is missing (pages not served over https): a blob URL ends with one. */
function uuid(): string {
  if ((globalThis.crypto as Partial<Crypto> | undefined)?.randomUUID) return crypto.randomUUID();
  const url = URL.createObjectURL(new Blob());
  URL.revokeObjectURL(url);
  return url.slice(-36);
}

/** What partysocket says when the socket cannot connect for want of a host, or of a room or basePath. */
const UNSET = ' must be set before connecting, use `updateProperties` method to set it or pass it to the constructor.';

/** The room's parts, and the options left for `ReconnectingWebSocket`. */
function split(options: PartySocketOptions) {
  const { id, host, path, party, room, protocol, query, protocols, ...socketOptions } = options;
  const pk = id || uuid();
  return { ...locate(options, 'ws', { _pk: pk }), id: pk, room, basePath: options.basePath, protocols, socketOptions };
}

/**
 * partysocket's `PartySocket`: a reconnecting WebSocket to `<protocol>://<host>/<prefix>/<party>/<room>[/<path>]`
 * (or `<host>/<basePath>[/<path>]`), with the connection id and `query` as query parameters.
 *
 * @example
 * ```ts
 * import PartySocket from 'resilient-websocket/compat/partysocket'; // was: from 'partysocket'
 *
 * const socket = new PartySocket({ host: 'my-app.example.com', room: 'lobby' });
 * socket.addEventListener('message', (event) => render(event.data));
 * ```
 */
export class PartySocket extends ReconnectingWebSocket {
  /** The options given to the constructor. */
  readonly partySocketOptions: PartySocketOptions;
  /** The party (`'main'` unless given). */
  name!: string;
  /** The room. */
  room?: string;
  /** The host, without scheme or trailing slash. */
  host!: string;
  /** The `path` option with its leading slash, or `''`. */
  path!: string;
  /** The `basePath` option. */
  basePath?: string;
  #id!: string;
  #roomUrl!: string;

  /** Creates the socket and, unless `startClosed`, connects; throws unless `room` or `basePath` is given then. */
  constructor(options: PartySocketOptions) {
    if (!options.host) throw new TypeError(`The host${UNSET}`);
    const parts = split(options);
    super(parts.url, parts.protocols, parts.socketOptions);
    this.partySocketOptions = options;
    this.#apply(parts);
    if (!options.startClosed && !this.room && !this.basePath) {
      this.close();
      throw new Error('Either room or basePath must be provided to connect. Use startClosed: true to create a socket and set them via updateProperties before calling reconnect().');
    }
    if (!options.disableNameValidation) {
      for (const [kind, value] of [['party', options.party], ['room', options.room]]) {
        if (value?.includes('/')) console.warn(`PartySocket: ${kind} name "${value}" contains a forward slash, which may cause routing issues: use a name without one, or set disableNameValidation: true.`);
      }
    }
  }

  /**
   * Changes where (and how) the next attempt connects: the options given replace those of the constructor; the
   * current connection stays until `reconnect()`. Without `id` in the constructor's options, a new id is drawn.
   */
  updateProperties(options: Partial<PartySocketOptions>): void {
    const parts = split({
      ...this.partySocketOptions,
      ...options,
      host: options.host ?? this.host,
      room: options.room ?? this.room,
      path: options.path ?? (this.path.slice(1) || undefined),
      basePath: options.basePath ?? this.basePath,
    });
    this._url = parts.url;
    this._protocols = parts.protocols;
    this._options = parts.socketOptions;
    this.#apply(parts);
  }

  /** Closes the current connection (if any) and connects again; throws unless the host and a room or `basePath` are set. */
  override reconnect(code?: number, reason?: string): void {
    if (!this.host) throw new Error(`The host${UNSET}`);
    if (!this.room && !this.basePath) throw new Error(`The room (or basePath)${UNSET}`);
    super.reconnect(code, reason);
  }

  /** The connection id (`_pk`). */
  get id(): string {
    return this.#id;
  }

  /** The room's URL without query parameters (the URL of the current socket is `url`). */
  get roomUrl(): string {
    return this.#roomUrl;
  }

  /** Sends an HTTP request to the room's URL (`http:` for local hosts, else `https:`), with `query`. */
  static async fetch(options: PartyFetchOptions, init?: RequestInit): Promise<Response> {
    const { url } = locate(options, 'http');
    return (options.fetch ?? fetch)(typeof url === 'string' ? url : await url(), init);
  }

  #apply(parts: ReturnType<typeof split>): void {
    this.#id = parts.id;
    this.#roomUrl = parts.roomUrl;
    this.name = parts.name;
    this.room = parts.room;
    this.host = parts.host;
    this.path = parts.path;
    this.basePath = parts.basePath;
  }
}

export default PartySocket;
