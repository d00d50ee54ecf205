/**
 * The browser side of `#platform` (see `platform.ts`): browsers have one WebSocket, with no protocol pings, no
 * refusal status, no protocol error codes and no constructor options, and no process to shut down, so none of
 * that is in a browser bundle.
 */
import type { WebSocketConstructor, WebSocketLike } from './transport.js';

export const defaultWebSocket = (): WebSocketConstructor | undefined => (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
export const listen = (): boolean => false;
export const unlisten = (): boolean => false;
export const canPing = (): boolean => false;
export const create = (Ctor: WebSocketConstructor, url: string, protocols: unknown): WebSocketLike => new Ctor(url, protocols as string[]);
export const protocolErrorCode = (): number | undefined => undefined;
export const track = (): void => {};
export const intern = <T>(options: T): T => options;
