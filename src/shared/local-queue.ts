import type { DropReason, OverflowPolicy, WireData } from '../index.js';

/** A message this handle accepted and has not yet seen settled. */
export interface Outgoing<Out> {
  readonly id: number;
  readonly message: Out;
  readonly data: WireData;
  readonly bytes: number;
  readonly expiresAt: number | undefined;
  /** `local`: waiting here for a leader; `posted`: sent to `leader`, no answer yet; `queued`: in `leader`'s queue. */
  stage: 'local' | 'posted' | 'queued';
  leader: string | undefined;
}

/** UTF-8 bytes of a string, byte length of binary data: what the core's queue counts against `maxBytes`. */
export function wireBytes(data: WireData): number {
  if (typeof data === 'string') {
    let bytes = data.length;
    for (let i = 0; i < data.length; i++) {
      const c = data.charCodeAt(i);
      // 2 bytes below U+0800; 3 above; a surrogate pair is 4 bytes for its 2 units.
      if (c >= 0x80) bytes += c < 0x800 || (c >= 0xd800 && c <= 0xdfff) ? 1 : 2;
    }
    return bytes;
  }
  if (typeof Blob !== 'undefined' && data instanceof Blob) return data.size;
  return (data as ArrayBufferLike | ArrayBufferView).byteLength;
}

/**
 * What `admit` decided for a message that arrived while no leader is known: the same bounds and overflow
 * policy as the core's queue. `evicted` are older local messages pushed out (reported as `overflow`), `expired`
 * the ones whose time-to-live passed.
 */
export interface Admission<Out> {
  readonly result: 'queued' | 'dropped' | 'rejected';
  readonly evicted: Outgoing<Out>[];
  readonly expired: Outgoing<Out>[];
}

/**
 * Pure: decides what happens to `next` given the messages waiting locally (oldest first), and returns the new
 * list in `kept`. No events are emitted here; the caller reports `evicted`, `expired` and a `dropped` result.
 */
export function admit<Out>(
  waiting: readonly Outgoing<Out>[],
  next: Outgoing<Out>,
  limits: { maxMessages: number; maxBytes: number; overflow: OverflowPolicy },
  now: number,
): Admission<Out> & { kept: Outgoing<Out>[] } {
  const expired = waiting.filter((m) => m.expiresAt !== undefined && m.expiresAt <= now);
  let kept = expired.length ? waiting.filter((m) => !expired.includes(m)) : [...waiting];
  const evicted: Outgoing<Out>[] = [];
  let bytes = kept.reduce((sum, m) => sum + m.bytes, 0);
  const fits = () => kept.length + 1 <= limits.maxMessages && bytes + next.bytes <= limits.maxBytes;
  if (next.bytes > limits.maxBytes || limits.maxMessages === 0) {
    return { result: limits.overflow === 'reject' ? 'rejected' : 'dropped', evicted, expired, kept };
  }
  if (!fits()) {
    if (limits.overflow === 'reject') return { result: 'rejected', evicted, expired, kept };
    if (limits.overflow === 'drop-newest') return { result: 'dropped', evicted, expired, kept };
    while (!fits() && kept.length) {
      const oldest = kept.shift()!;
      bytes -= oldest.bytes;
      evicted.push(oldest);
    }
  }
  kept.push(next);
  return { result: 'queued', evicted, expired, kept };
}

/** The drop reason a refusing `send()` result stands for, once the message was already accepted as `queued`. */
export function refusalReason(result: 'rejected' | 'closed' | 'disposed' | 'failed'): DropReason {
  return result === 'rejected' ? 'overflow' : result;
}
