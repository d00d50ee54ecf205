import { describe, expect, it } from 'vitest';
import { sharedName } from '../../src/shared/protocol.js';

describe('sharedName', () => {
  it('differs by url and key, and normalises the url', () => {
    expect(sharedName('ws://h/a', '')).toBe(sharedName(new URL('ws://h/a'), ''));
    expect(sharedName('ws://h', '')).toBe(sharedName('ws://h/', ''));
    expect(sharedName('ws://h/a', 'x')).not.toBe(sharedName('ws://h/a', 'y'));
    expect(sharedName('ws://h/a', '')).not.toBe(sharedName('ws://h/b', ''));
  });
});
