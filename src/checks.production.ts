/**
 * Option checking in production builds (see `checks.ts`): a number, string or boolean option given a value of
 * another type is still refused, by name; ranges, names and the rest are checked in development and in Node.
 */
export function checkOption(group: string, name: string, value: unknown, base: unknown): void {
  const kind = typeof base;
  // Options with no default (protocols, headers, debug, heartbeat.message...) take several types: not checked here.
  if (value !== undefined && base !== undefined && typeof value !== kind && kind !== 'object' && kind !== 'function' && name !== 'jitter') {
    throw new TypeError(`ReconnectingSocket: option "${group}${name}" got ${String(value)}`);
  }
}

export const checkAttempt = (): void => {};
export const checkArgs = (): void => {};

/** A SharedSocket's `Socket` and `key` options (see `checks.ts`), by name. */
export function checkShared(Socket: unknown, key: unknown, hasUrlFunction: boolean): void {
  if (typeof Socket !== 'function' || typeof key !== 'string' || (hasUrlFunction && !key)) throw new TypeError(`SharedSocket: option "${typeof Socket !== 'function' ? 'Socket' : 'key'}" got ${String(typeof Socket !== 'function' ? Socket : key)}`);
}

/** useSocket's `key` for a shared socket with a url function (see `checks.ts`). */
export function checkHookKey(isMissing: boolean): void {
  if (isMissing) throw new TypeError('useSocket: options.key');
}

/** close()'s arguments (RFC 6455 §7.4, §5.5): a legal code and a short string reason, or a RangeError. */
export function checkClose(code: unknown, reason: unknown): void {
  if (!(code === 1000 || code === 1001 || ((code as number) >= 3000 && (code as number) <= 4999 && Number.isInteger(code))) || typeof reason !== 'string' || reason.length > 123) {
    throw new RangeError(`close(${String(code)}): bad code or reason`);
  }
}
