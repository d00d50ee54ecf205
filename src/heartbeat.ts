import type { DisposerScope } from './disposer.js';
import type { ResolvedOptions, WireData } from './options.js';
import type { WebSocketLike } from './transport.js';

type HeartbeatConfig = Exclude<ResolvedOptions['heartbeat'], false>;

/** What the heartbeat reports back to its owner. */
export interface HeartbeatHooks {
  /** The deadline passed with no sign of life. */
  onDead(deadlineMs: number): void;
  /** A pong arrived, `rttMs` after its ping. */
  onRtt(rttMs: number): void;
}

/** A running heartbeat. It lives in the open state's scope: disposing that scope stops it. */
export interface Heartbeat {
  /** Pings now with a (short) deadline, unless a ping is already outstanding with a shorter one. */
  probe(deadlineMs?: number): void;
  /** Sees every incoming message first; returns true when the message was the pong and must not be delivered. */
  onMessage(data: unknown): boolean;
}

/**
 * Starts liveness checking on an open socket: a protocol ping (Node `ws`) or the configured
 * application-level ping every `intervalMs`, and the connection is declared dead if nothing answers within
 * `timeoutMs`. Returns `undefined` when there is no way to ping (a browser socket with no `message` set).
 */
export function startHeartbeat(
  scope: DisposerScope,
  socket: WebSocketLike,
  config: HeartbeatConfig,
  hooks: HeartbeatHooks,
  now: () => number = Date.now,
): Heartbeat | undefined {
  const isProtocol = config.message === undefined && typeof socket.ping === 'function' && typeof socket.on === 'function';
  if (!isProtocol && config.message === undefined) return undefined;
  // A timer that fires this much later than asked means the machine slept or the tab was throttled.
  const jumpMs = Math.max(2_000, config.intervalMs);
  let sentAt = 0;
  let deadlineMs = 0;
  let cancelDeadline: (() => void) | undefined;
  let lastTick = now();

  const settle = () => {
    cancelDeadline?.();
    cancelDeadline = undefined;
  };
  const ping = (ms: number) => {
    if (cancelDeadline && deadlineMs <= ms) return;
    settle();
    sentAt = now();
    deadlineMs = ms;
    try {
      if (isProtocol) socket.ping!();
      else socket.send(typeof config.message === 'function' ? config.message() : (config.message as WireData));
    } catch {
      // A socket that cannot take the ping is as good as dead: the deadline will say so.
    }
    const armedAt = sentAt;
    cancelDeadline = scope.timeout(() => {
      cancelDeadline = undefined;
      // The deadline itself fired late (sleep): the pong may be queued behind the wake-up, so probe again briefly.
      if (now() - armedAt > ms + jumpMs) ping(Math.min(config.probeTimeoutMs, ms));
      else hooks.onDead(ms);
    }, ms);
  };
  const tick = () => {
    const late = now() - lastTick - config.intervalMs;
    lastTick = now();
    scope.timeout(tick, config.intervalMs);
    ping(late > jumpMs ? Math.min(config.probeTimeoutMs, config.timeoutMs) : config.timeoutMs);
  };
  const alive = (isPong: boolean) => {
    if (!cancelDeadline) return;
    if (isPong) hooks.onRtt(now() - sentAt);
    settle();
  };

  scope.timeout(tick, config.intervalMs);
  if (isProtocol) {
    const onPong = () => alive(true);
    socket.on!('pong', onPong);
    scope.add(() => socket.off?.('pong', onPong));
  }
  return {
    probe: (ms = config.probeTimeoutMs) => ping(ms),
    onMessage(data) {
      if (!isProtocol && (config.isPong ? config.isPong(data) : true)) {
        alive(true);
        return config.isPong !== undefined;
      }
      if (config.anyMessageIsAlive) alive(false);
      return false;
    },
  };
}
