import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { SocketError, isSocketError, type CloseRecord, type SocketErrorCode, type SocketErrorJSON } from '../../src/index.js';

// SocketError across copies of the package, and as JSON. The CommonJS build in dist/ is a second copy of the
// class (npm test builds before it runs the tests), just as a project that both imports and requires the
// package, or has two versions of it installed, gets two copies.

const CJS = fileURLToPath(new URL('../../dist/index.cjs', import.meta.url));

describe('SocketError', () => {
  it('instanceof holds across copies of the class, both ways', () => {
    expect(existsSync(CJS), 'dist/index.cjs is missing: run npm run build').toBe(true);
    const Other = (createRequire(import.meta.url)(CJS) as { SocketError: typeof SocketError }).SocketError;
    expect(Other).not.toBe(SocketError);
    const ours = new SocketError('SOCKET_ERROR', 'boom');
    const theirs = new Other('CONNECT_TIMEOUT', 'slow');
    expect(theirs instanceof SocketError).toBe(true);
    expect(ours instanceof Other).toBe(true);
    expect(isSocketError(theirs)).toBe(true);
    expect(theirs instanceof Error).toBe(true);
  });

  it('instanceof rejects everything else, and a subclass keeps the ordinary check', () => {
    for (const value of [new Error('x'), { code: 'SOCKET_ERROR', name: 'SocketError', message: 'x' }, null, undefined, 'SocketError', 42]) {
      expect(value instanceof SocketError).toBe(false);
      expect(isSocketError(value)).toBe(false);
    }
    class Special extends SocketError {}
    expect(new Special('SOCKET_ERROR', 'x') instanceof SocketError).toBe(true);
    expect(new SocketError('SOCKET_ERROR', 'x') instanceof Special).toBe(false);
    expect(new Special('SOCKET_ERROR', 'x') instanceof Special).toBe(true);
  });

  it('the brand adds no own property: an error still equals its copy', () => {
    const error = new SocketError('SOCKET_ERROR', 'boom');
    expect(Object.getOwnPropertySymbols(error)).toEqual([]);
    expect(Object.keys(error)).toEqual(['name', 'code']);
  });

  it('JSON keeps the name, code, message, cause and close, and leaves out the raw data', () => {
    const close: CloseRecord = { code: 1006, reason: '', wasClean: false, cause: 'network' };
    const error = new SocketError('CLOSED', 'closed for good', { cause: new TypeError('inner'), data: new ArrayBuffer(8), close });
    const json: unknown = JSON.parse(JSON.stringify(error));
    expect(json).toEqual({ name: 'SocketError', code: 'CLOSED', message: 'closed for good', cause: 'inner', close });
    expect(JSON.parse(JSON.stringify(new SocketError('TIMEOUT', 't', { cause: 'why' })))).toEqual({ name: 'SocketError', code: 'TIMEOUT', message: 't', cause: 'why' });
  });

  it('a close record with an error serialises with the error', () => {
    const record: CloseRecord = { code: 1006, reason: '', wasClean: false, cause: 'connect-timeout', error: new SocketError('CONNECT_TIMEOUT', 'no open within 10 ms') };
    expect(JSON.parse(JSON.stringify(record)).error).toEqual({ name: 'SocketError', code: 'CONNECT_TIMEOUT', message: 'no open within 10 ms' });
  });

  it('has the contract types', () => {
    const value: unknown = new SocketError('ABORTED', 'a');
    if (value instanceof SocketError) expectTypeOf(value.code).toEqualTypeOf<SocketErrorCode>();
    if (isSocketError(value)) expectTypeOf(value).toEqualTypeOf<SocketError>();
    expectTypeOf(new SocketError('ABORTED', 'a').toJSON()).toEqualTypeOf<SocketErrorJSON>();
    expectTypeOf<SocketErrorJSON['code']>().toEqualTypeOf<SocketErrorCode>();
    // @ts-expect-error not a code
    new SocketError('NOPE', 'x');
  });
});
