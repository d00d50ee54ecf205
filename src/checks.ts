import { utf8Length } from './transport.js';

/**
 * Option checking for development and Node (package.json `imports`, `#checks`): every option, with messages that
 * name the option, what it must be and the value received. Production builds (the `production` condition of
 * bundlers such as Vite and webpack) get `checks.production.ts` instead, which checks only types.
 */
/** Durations that become timers stop at setTimeout's limit (2^31 - 1 ms); a longer one would fire at once. */
const T = 2_147_483_647;

/**
 * How each option is checked: a number range `[min, max, whole?]` (`max` Infinity allows Infinity), a `typeof`
 * name, `'a|b'` for a choice of strings, or a named check.
 */
const RULES: Record<string, readonly [number, number, 1?] | string> = {
  connectTimeoutMs: [1, T],
  closeTimeoutMs: [0, T],
  initialDelayMs: [0, T],
  delayFactor: [1, T],
  maxDelayMs: [0, T],
  stableAfterMs: [0, T],
  maxRetries: [0, Infinity, 1],
  maxMessageBytes: [1, Infinity, 1],
  autoConnect: 'boolean',
  pauseWhenHidden: 'boolean',
  unrefRetryTimer: 'boolean',
  delay: 'function',
  random: 'function',
  shouldReconnect: 'function',
  WebSocket: 'function',
  debug: 'function',
  binaryType: 'arraybuffer|blob',
  jitter: 'jitter',
  codec: 'codec',
  signal: 'signal',
  environment: 'environment',
  protocols: 'protocols',
  headers: 'headers',
  transport: 'transport',
  heartbeat: 'heartbeat',
  queue: 'object',
  'heartbeat.intervalMs': [1, T],
  'heartbeat.timeoutMs': [1, T],
  'heartbeat.probeTimeoutMs': [1, T],
  'heartbeat.isPong': 'function',
  'heartbeat.anyMessageIsAlive': 'boolean',
  'heartbeat.message': 'ping',
  'queue.maxMessages': [0, Infinity, 1],
  'queue.maxBytes': [0, Infinity],
  'queue.ttlMs': [1, Infinity],
  'queue.overflow': 'drop-oldest|drop-newest|reject',
  'queue.queueWhileClosed': 'boolean',
};

/** A value as it appears in a message: strings quoted, numbers and the like as they are, objects by kind. */
export function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : value === null || typeof value !== 'object' && typeof value !== 'function' ? String(value) : Array.isArray(value) ? 'an array' : typeof value;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;
const has = (value: any, ...names: string[]) => value != null && names.every((name) => typeof value[name] === 'function');
const TOKEN = /^[!#$%&'*+.^_`|~\w-]+$/;

/**
 * What is wrong with a list of subprotocols (RFC 6455 §4.1: distinct HTTP tokens), or `undefined`. Fixed values
 * are checked once, when the socket is made; a provider's, at each attempt.
 */
export function badProtocols(value: unknown): string | undefined {
  const list = typeof value === 'string' ? [value] : value;
  if (value === undefined) return undefined;
  if (!Array.isArray(list) || !list.every((item) => typeof item === 'string' && TOKEN.test(item))) return 'a subprotocol name (an HTTP token) or an array of them';
  if (new Set(list).size < list.length) return 'distinct subprotocol names';
  return undefined;
}

/** What is wrong with handshake headers (HTTP token names, string values without control characters), or `undefined`. */
export function badHeaders(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value) || !Object.entries(value).every(([name, text]) => TOKEN.test(name) && typeof text === 'string' && !/[^\t\x20-\x7e\x80-\xff]/.test(text))) {
    return 'an object of header names (HTTP tokens) and string values';
  }
  return undefined;
}

/** What a named check expects, or `undefined` when the value passes. */
function expects(rule: string, value: any): string | undefined {
  switch (rule) {
    case 'jitter':
      return typeof value === 'boolean' || value === 'full' || value === 'decorrelated' ? undefined : "true, false, 'full' or 'decorrelated'";
    case 'codec':
      return has(value, 'encode', 'decode') ? undefined : '{ encode(), decode() }';
    case 'signal':
      return has(value, 'addEventListener') ? undefined : 'an AbortSignal';
    case 'environment':
      return value === null || has(value, 'subscribe') ? undefined : '{ subscribe() } or null';
    case 'protocols':
      return typeof value === 'function' ? undefined : badProtocols(value);
    case 'headers':
      return typeof value === 'function' ? undefined : badHeaders(value);
    case 'transport':
      return isObject(value) || typeof value === 'function' ? undefined : 'an object or a function';
    case 'heartbeat':
      return value === false || isObject(value) ? undefined : 'an object or false';
    case 'ping':
      return typeof value === 'string' || typeof value === 'function' || (isObject(value) && ('byteLength' in value || 'size' in value)) ? undefined : 'data or a function';
    default: {
      const choices = rule.split('|');
      if (choices.length > 1) return choices.includes(value) ? undefined : `'${choices.slice(0, -1).join("', '")}' or '${choices.at(-1)}'`;
      return typeof value === rule && value !== null ? undefined : `a ${rule}`;
    }
  }
}

/**
 * Checks one given option (`group` is `''`, `'heartbeat.'` or `'queue.'`); `undefined` always means "use the
 * default". Throws a `TypeError`/`RangeError` that names the option, what it must be, and the value received.
 */
export function checkOption(group: string, name: string, value: unknown, _base?: unknown): void {
  if (name === 'options' && !group) {
    if (!isObject(value)) throw new TypeError(`ReconnectingSocket: options must be an object, got ${describe(value)}.`);
    return;
  }
  // A dotted name is a group's option ('queue.maxMessages'): it belongs inside its group.
  const rule = !name.includes('.') && RULES[group + name];
  name = group + name;
  if (!rule) throw new TypeError(`ReconnectingSocket: unknown option "${name}" (check its spelling).`);
  if (value === undefined) return;
  let expected: string | undefined;
  let isRange = false;
  if (typeof rule === 'string') expected = expects(rule, value);
  else {
    const [min, max, whole] = rule;
    if (typeof value !== 'number' || Number.isNaN(value)) expected = 'a number';
    else if (value < min || value > max || (whole && value !== Infinity && !Number.isInteger(value))) {
      isRange = true;
      expected = `a ${whole ? 'whole ' : ''}number >= ${min} ${max < Infinity ? `and <= ${max}` : '(or Infinity)'}`;
    }
  }
  if (expected) {
    const message = `ReconnectingSocket: option "${name}" must be ${expected}, got ${describe(value)}.`;
    throw isRange ? new RangeError(message) : new TypeError(message);
  }
}


/** What each socket was already warned about: 1 headers ignored, 2 transport ignored. */
const warned = new WeakMap<object, number>();

/**
 * Checks what the providers gave one attempt (a TypeError says what is wrong), and warns once per socket and
 * kind (through `debug` and console.warn) about what this WebSocket cannot honour: browsers take no headers and
 * no options.
 */
export function checkAttempt(protocols: unknown, headers: unknown, transport: unknown, Ctor: { prototype: object }, socket: object, debug: ((message: string) => void) | undefined): void {
  const bad = badProtocols(protocols) ?? badHeaders(headers);
  if (bad) throw new TypeError(`a provider returned ${describe(protocols)} / ${describe(headers)}: expected ${bad}`);
  if (typeof (Ctor.prototype as { terminate?: unknown } | undefined)?.terminate === 'function') return;
  const warn = (kind: number, warning: string) => {
    const bits = warned.get(socket) ?? 0;
    if (bits & kind) return;
    warned.set(socket, bits | kind);
    try {
      debug?.(warning);
    } catch {
      // A throwing debug hook must not break the socket.
    }
    console.warn(`ReconnectingSocket: ${warning}`);
  };
  if (headers) warn(1, 'headers ignored: this WebSocket cannot send them (browsers cannot)');
  if (transport) warn(2, 'transport ignored: this WebSocket takes no options (browsers take none)');
}

/** The (url, protocols, options) shape of reconnecting-websocket and partysocket: says where each belongs. */
export function checkArgs(count: number, options: unknown): void {
  if (count > 2 || Array.isArray(options) || typeof options === 'string') {
    throw new TypeError("ReconnectingSocket(url, options): pass { protocols } in options, or use 'resilient-websocket/compat' for (url, protocols, options).");
  }
}

/** A SharedSocket's own options: the class it leads with and the key that names its connection. */
export function checkShared(Socket: unknown, key: unknown, hasUrlFunction: boolean): void {
  if (typeof Socket !== 'function') throw new TypeError(`SharedSocket: option "Socket" must be a class such as ReconnectingSocket, got ${typeof Socket}.`);
  if (typeof key !== 'string' || (hasUrlFunction && !key)) {
    throw new TypeError(`SharedSocket: option "key" must be a string, not '' with a url function (it names the connection); got ${key === '' ? "''" : typeof key}.`);
  }
}

/** useSocket's shared sockets are found by url, or by `key` when the url is a function. */
export function checkHookKey(isMissing: boolean): void {
  if (isMissing) throw new TypeError('useSocket: a shared socket with a url function needs options.key to name it.');
}

/** Checks the arguments of `close()` (RFC 6455 §7.4, §5.5); throws a TypeError or RangeError that says what to change. */
export function checkClose(code: unknown, reason: unknown): void {
  if (typeof code !== 'number') throw new TypeError(`close(): code must be a number, got ${typeof code}.`);
  if (code !== 1000 && code !== 1001 && !(code >= 3000 && code <= 4999 && Number.isInteger(code))) throw new RangeError(`close(): code must be 1000, 1001 or 3000-4999, got ${code}.`);
  if (typeof reason !== 'string') throw new TypeError(`close(): reason must be a string, got ${typeof reason}.`);
  if (utf8Length(reason) > 123) throw new RangeError(`close(): reason must be at most 123 UTF-8 bytes, got ${utf8Length(reason)}.`);
}
