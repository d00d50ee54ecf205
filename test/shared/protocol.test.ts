import { describe, expect, it } from 'vitest';
import { admit, wireBytes, type Outgoing } from '../../src/shared/local-queue.js';
import { acceptMessage, sharedName } from '../../src/shared/protocol.js';

function entry(id: number, bytes = 1, expiresAt?: number): Outgoing<string> {
  return { id, message: `m${id}`, data: `m${id}`, bytes, expiresAt, stage: 'local', leader: undefined };
}

describe('acceptMessage: once and in order per leader', () => {
  it('delivers in order, skips duplicates, reports gaps, restarts with a new leader', () => {
    let cursor = { leader: undefined as string | undefined, next: 0 };
    const step = (leader: string, seq: number) => {
      const verdict = acceptMessage(cursor, leader, seq);
      cursor = verdict.cursor;
      return [verdict.deliver, verdict.gap];
    };
    expect(step('a', 0)).toEqual([true, 0]);
    expect(step('a', 1)).toEqual([true, 0]);
    expect(step('a', 1)).toEqual([false, 0]);
    expect(step('a', 0)).toEqual([false, 0]);
    expect(step('a', 4)).toEqual([true, 2]);
    expect(step('b', 0)).toEqual([true, 0]);
    expect(step('b', 1)).toEqual([true, 0]);
  });
});

describe('admit: the core queue bounds, held locally while no leader is known', () => {
  const limits = { maxMessages: 2, maxBytes: 10, overflow: 'drop-oldest' as const };
  it('queues under the bounds, evicts the oldest beyond them', () => {
    const first = admit([], entry(1), limits, 0);
    expect(first.result).toBe('queued');
    const third = admit([entry(1), entry(2)], entry(3), limits, 0);
    expect(third.result).toBe('queued');
    expect(third.evicted.map((e) => e.id)).toEqual([1]);
    expect(third.kept.map((e) => e.id)).toEqual([2, 3]);
  });
  it('drop-newest and reject refuse the new one', () => {
    expect(admit([entry(1), entry(2)], entry(3), { ...limits, overflow: 'drop-newest' }, 0).result).toBe('dropped');
    expect(admit([entry(1), entry(2)], entry(3), { ...limits, overflow: 'reject' }, 0).result).toBe('rejected');
  });
  it('counts bytes; a message alone over maxBytes is dropped', () => {
    expect(admit([entry(1, 6)], entry(2, 6), limits, 0).evicted.map((e) => e.id)).toEqual([1]);
    expect(admit([], entry(1, 11), limits, 0).result).toBe('dropped');
  });
  it('expires messages past their time-to-live', () => {
    const outcome = admit([entry(1, 1, 5), entry(2, 1, 50)], entry(3), limits, 10);
    expect(outcome.expired.map((e) => e.id)).toEqual([1]);
    expect(outcome.kept.map((e) => e.id)).toEqual([2, 3]);
  });
  it('wireBytes counts UTF-8 like the core', () => {
    for (const text of ['abc', 'é', '€', '😀', 'a😀é€']) expect(wireBytes(text)).toBe(new TextEncoder().encode(text).length);
    expect(wireBytes(new Uint8Array(7))).toBe(7);
  });
});

describe('sharedName', () => {
  it('differs by url and key, and normalises the url', () => {
    expect(sharedName('ws://h/a', '')).toBe(sharedName(new URL('ws://h/a'), ''));
    expect(sharedName('ws://h', '')).toBe(sharedName('ws://h/', ''));
    expect(sharedName('ws://h/a', 'x')).not.toBe(sharedName('ws://h/a', 'y'));
    expect(sharedName('ws://h/a', '')).not.toBe(sharedName('ws://h/b', ''));
  });
});
