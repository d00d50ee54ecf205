import { describe, expect, it } from 'vitest';
import type { OverflowPolicy, WireData } from '../../src/options.js';
import { OutgoingQueue, type QueuedMessage } from '../../src/queue.js';
import { byteSize, utf8Length } from '../../src/transport.js';

const newQueue = <T>(maxMessages: number, maxBytes: number, overflow: OverflowPolicy) => new OutgoingQueue<T>({ maxMessages, maxBytes, overflow, queueWhileClosed: false });
/** push(), with what it evicted to make room (expired messages are reported apart). */
function push<T>(queue: OutgoingQueue<T>, message: T, data: WireData, now: number, ttlMs: number | undefined) {
  const evicted: QueuedMessage<T>[] = [];
  const result = queue.push(message, data, now, ttlMs, (item, reason) => reason === 'overflow' && evicted.push(item));
  return { result, evicted };
}
const messages = <T>(queue: OutgoingQueue<T>) => queue.entries().map((item) => item.message);
const fill = (queue: OutgoingQueue<string>, ...items: string[]) => items.map((item) => push(queue, item, item, 0, undefined));

describe('UTF-8 sizes', () => {
  it('counts multi-byte characters by their UTF-8 length', () => {
    expect(utf8Length('a')).toBe(1);
    expect(utf8Length('é')).toBe(2);
    expect(utf8Length('€')).toBe(3);
    expect(utf8Length('😀')).toBe(4);
    expect(utf8Length('aé€😀')).toBe(10);
    expect(utf8Length('')).toBe(0);
  });

  it('agrees with TextEncoder, including lone surrogates (encoded as U+FFFD)', () => {
    const encoder = new TextEncoder();
    for (const text of ['hello', 'ß', 'ü€', '👍🏽', '𝄞 clef', '\u07ff\u0800', '\ud800', '\udc00x', 'a\ud83d', '\ud83d\ude00\ud83d', 'x'.repeat(300)]) {
      expect(utf8Length(text), JSON.stringify(text)).toBe(encoder.encode(text).length);
    }
  });

  it('sizes binary data by bytes', () => {
    expect(byteSize(new ArrayBuffer(8))).toBe(8);
    expect(byteSize(new Uint8Array(3))).toBe(3);
    expect(byteSize(new Uint16Array(4))).toBe(8);
    expect(byteSize(new DataView(new ArrayBuffer(16), 4, 6))).toBe(6);
    expect(byteSize(new Blob(['é€']))).toBe(5);
  });
});

describe('OutgoingQueue', () => {
  it('records size, bytes, timestamps and expiry of each message', () => {
    const queue = newQueue<{ n: number }>(10, 1000, 'drop-oldest');
    expect(push(queue, { n: 1 }, 'é€', 1000, 500)).toEqual({ result: 'queued', evicted: [] });
    push(queue, { n: 2 }, new Uint8Array(4), 1200, undefined);
    expect(queue.entries()).toEqual([
      { message: { n: 1 }, data: 'é€', bytes: 5, queuedAt: 1000, expiresAt: 1500 },
      { message: { n: 2 }, data: new Uint8Array(4), bytes: 4, queuedAt: 1200, expiresAt: undefined },
    ]);
    expect(queue.size).toBe(2);
    expect(queue.bytes).toBe(9);
  });

  it('entries() is a snapshot', () => {
    const queue = newQueue<string>(10, 1000, 'drop-oldest');
    fill(queue, 'a');
    const snapshot = queue.entries();
    snapshot.pop();
    expect(queue.size).toBe(1);
  });

  it('shift() takes the oldest out (FIFO) and returns undefined when empty', () => {
    const queue = newQueue<string>(10, 1000, 'drop-oldest');
    fill(queue, 'a', 'bb');
    expect(queue.shift()?.message).toBe('a');
    expect(queue.bytes).toBe(2);
    expect(queue.shift()?.message).toBe('bb');
    expect(queue.shift()).toBeUndefined();
    expect(queue.size).toBe(0);
    expect(queue.bytes).toBe(0);
  });

  describe('count bound', () => {
    it('drop-oldest evicts the oldest to make room', () => {
      const queue = newQueue<string>(2, Infinity, 'drop-oldest');
      fill(queue, 'a', 'b');
      const outcome = push(queue, 'c', 'c', 0, undefined);
      expect(outcome.result).toBe('queued');
      expect(outcome.evicted.map((item) => item.message)).toEqual(['a']);
      expect(messages(queue)).toEqual(['b', 'c']);
      expect(queue.bytes).toBe(2);
    });

    it('drop-newest refuses the new message as "dropped"', () => {
      const queue = newQueue<string>(2, Infinity, 'drop-newest');
      fill(queue, 'a', 'b');
      expect(push(queue, 'c', 'c', 0, undefined)).toEqual({ result: 'dropped', evicted: [] });
      expect(messages(queue)).toEqual(['a', 'b']);
    });

    it('reject refuses the new message as "rejected"', () => {
      const queue = newQueue<string>(2, Infinity, 'reject');
      fill(queue, 'a', 'b');
      expect(push(queue, 'c', 'c', 0, undefined)).toEqual({ result: 'rejected', evicted: [] });
      expect(messages(queue)).toEqual(['a', 'b']);
    });

    it('maxMessages 0 holds nothing, whatever the policy', () => {
      expect(push(newQueue<string>(0, Infinity, 'drop-oldest'), 'a', 'a', 0, undefined)).toEqual({ result: 'dropped', evicted: [] });
      expect(push(newQueue<string>(0, Infinity, 'drop-newest'), 'a', 'a', 0, undefined)).toEqual({ result: 'dropped', evicted: [] });
      expect(push(newQueue<string>(0, Infinity, 'reject'), 'a', 'a', 0, undefined)).toEqual({ result: 'rejected', evicted: [] });
    });

    it('maxMessages Infinity is unbounded', () => {
      const queue = newQueue<number>(Infinity, Infinity, 'reject');
      for (let i = 0; i < 5000; i++) expect(push(queue, i, 'x', 0, undefined).result).toBe('queued');
      expect(queue.size).toBe(5000);
    });
  });

  describe('byte bound (UTF-8)', () => {
    it('a message that exactly fills the budget fits', () => {
      const queue = newQueue<string>(10, 5, 'reject');
      expect(push(queue, '€é', '€é', 0, undefined).result).toBe('queued'); // 3 + 2 = 5 bytes
      expect(queue.bytes).toBe(5);
      expect(push(queue, 'a', 'a', 0, undefined).result).toBe('rejected');
    });

    it('counts bytes, not UTF-16 units: "😀" is 4 bytes though its length is 2', () => {
      const queue = newQueue<string>(10, 5, 'drop-newest');
      expect(push(queue, '😀', '😀', 0, undefined).result).toBe('queued');
      expect(push(queue, 'é', 'é', 0, undefined).result).toBe('dropped'); // 4 + 2 > 5
      expect(push(queue, 'a', 'a', 0, undefined).result).toBe('queued'); // 4 + 1 = 5
      expect(queue.bytes).toBe(5);
    });

    it('drop-oldest evicts as many as needed, oldest first', () => {
      const queue = newQueue<string>(10, 6, 'drop-oldest');
      fill(queue, 'é', '€', 'a'); // 2 + 3 + 1 = 6
      const outcome = push(queue, '😀', '😀', 0, undefined); // needs 4: evict é (→4), € (→1), then 1 + 4 = 5
      expect(outcome.result).toBe('queued');
      expect(outcome.evicted.map((item) => item.message)).toEqual(['é', '€']);
      expect(messages(queue)).toEqual(['a', '😀']);
      expect(queue.bytes).toBe(5);
    });

    it('a message larger than the whole budget is refused without evicting anything', () => {
      const oldest = newQueue<string>(10, 3, 'drop-oldest');
      fill(oldest, 'ab');
      expect(push(oldest, '€é', '€é', 0, undefined)).toEqual({ result: 'dropped', evicted: [] });
      expect(messages(oldest)).toEqual(['ab']);
      const reject = newQueue<string>(10, 3, 'reject');
      expect(push(reject, '€é', '€é', 0, undefined)).toEqual({ result: 'rejected', evicted: [] });
    });

    it('binary messages count their byte length', () => {
      const queue = newQueue<string>(10, 10, 'drop-oldest');
      push(queue, 'a', new Uint8Array(6), 0, undefined);
      const outcome = push(queue, 'b', new ArrayBuffer(6), 0, undefined);
      expect(outcome.evicted.map((item) => item.message)).toEqual(['a']);
      expect(queue.bytes).toBe(6);
    });
  });

  describe('time-to-live', () => {
    it('expire(now) removes and returns the expired messages in order, keeping the rest', () => {
      const queue = newQueue<string>(10, 1000, 'drop-oldest');
      push(queue, 'a', 'a', 0, 100); // expires at 100
      push(queue, 'b', 'bb', 0, undefined);
      push(queue, 'c', 'ccc', 50, 100); // expires at 150
      push(queue, 'd', 'dddd', 60, 20); // expires at 80
      expect(queue.expire(79)).toEqual([]);
      expect(queue.expire(100).map((item) => item.message)).toEqual(['a', 'd']); // expiresAt <= now
      expect(messages(queue)).toEqual(['b', 'c']);
      expect(queue.bytes).toBe(5);
      expect(queue.expire(1e9).map((item) => item.message)).toEqual(['c']);
      expect(messages(queue)).toEqual(['b']);
      expect(queue.expire(1e12)).toEqual([]);
    });

    it('keeps tracking expiry after shift and clear', () => {
      const queue = newQueue<string>(10, 1000, 'drop-oldest');
      push(queue, 'a', 'a', 0, 10);
      queue.shift();
      push(queue, 'b', 'b', 0, undefined);
      expect(queue.expire(100)).toEqual([]);
      push(queue, 'c', 'c', 0, 10);
      queue.clear();
      push(queue, 'd', 'd', 0, undefined);
      expect(queue.expire(100)).toEqual([]);
      expect(messages(queue)).toEqual(['d']);
    });

    it('an evicted message with a TTL no longer counts for expiry', () => {
      const queue = newQueue<string>(1, 1000, 'drop-oldest');
      push(queue, 'a', 'a', 0, 10);
      push(queue, 'b', 'b', 0, undefined);
      expect(queue.expire(100)).toEqual([]);
      expect(messages(queue)).toEqual(['b']);
    });
  });

  it('clear() empties the queue and returns what it held', () => {
    const queue = newQueue<string>(10, 1000, 'drop-oldest');
    fill(queue, 'a', 'é');
    expect(queue.clear().map((item) => item.message)).toEqual(['a', 'é']);
    expect(queue.size).toBe(0);
    expect(queue.bytes).toBe(0);
    expect(queue.entries()).toEqual([]);
    expect(queue.clear()).toEqual([]);
  });
});
