/**
 * Option checking in production builds (see `checks.ts`): a number, string or boolean option given a value of
 * another type is still refused, by name; ranges, names and the rest are checked in development and in Node.
 */
export function checkOption(group: string, name: string, value: unknown, base: unknown): void {
  const kind = typeof base;
  if (value !== undefined && typeof value !== kind && kind !== 'object' && kind !== 'function' && name !== 'jitter') {
    throw new TypeError(`ReconnectingSocket: option "${group}${name}" got ${String(value)}`);
  }
}

export const checkAttempt = (): void => {};
export const checkArgs = (): void => {};
