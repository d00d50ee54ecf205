import { redactUrl } from './errors.js';
import type { Provider, ProviderContext } from './options.js';

function resolveProvider<T>(provider: Provider<T> | undefined, context: ProviderContext): T | Promise<T> | undefined {
  return typeof provider === 'function' ? (provider as (c: ProviderContext) => T | Promise<T>)(context) : provider;
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}

/**
 * Calls the providers of one attempt (url, protocols, headers) and hands their values to `onReady`: at once
 * when all are plain values, after the promises settle otherwise. A throw or a rejection goes to `onFailed`,
 * never anywhere unhandled. Once `isAbandoned()` is true (the attempt timed out, was closed or disposed), late
 * results are ignored.
 */
export function resolveProviders(
  providers: readonly Provider<unknown>[],
  context: ProviderContext,
  isAbandoned: () => boolean,
  onReady: (values: unknown[]) => void,
  onFailed: (error: unknown) => void,
): void {
  const values: unknown[] = [];
  try {
    for (const provider of providers) values.push(resolveProvider(provider, context));
  } catch (error) {
    // A provider already pending must not surface later as an unhandled rejection.
    for (const value of values) if (isPromiseLike(value)) Promise.resolve(value).catch(() => {});
    onFailed(error);
    return;
  }
  if (!values.some(isPromiseLike)) return onReady(values);
  Promise.all(values).then(
    (settled) => isAbandoned() || onReady(settled),
    (error) => isAbandoned() || onFailed(error),
  );
}

/** Checks a URL and returns it as `ws:`/`wss:` (http and https map onto them); throws a TypeError otherwise. */
export function checkUrl(value: unknown): string {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    // Not parseable, so redactUrl() cannot help: cut credentials, query and fragment by hand before quoting.
    const shown = String(value).replace(/[?#].*$/s, '').replace(/\/\/[^/]*@/, '//');
    throw new TypeError(`ReconnectingSocket: url must be an absolute ws(s) or http(s) URL, got ${JSON.stringify(shown).slice(0, 80)}.`);
  }
  if (url.protocol === 'http:' || url.protocol === 'https:') url.protocol = url.protocol === 'http:' ? 'ws:' : 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new TypeError(`ReconnectingSocket: url must use ws:, wss:, http: or https:, got ${redactUrl(url)}.`);
  }
  return url.href;
}
