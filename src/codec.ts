import type { Codec, WireData } from './options.js';

/** Passes wire data through untouched: strings stay strings, binary arrives as `ArrayBuffer` (or `Blob`). */
export const rawCodec: Codec<string | ArrayBuffer | Blob, WireData> = {
  encode: (message) => message,
  decode: (data) => data,
};

let decoder: TextDecoder | undefined;

/** JSON in text frames. Binary frames are read as UTF-8 JSON; a `Blob` cannot be decoded synchronously and fails. */
export const jsonCodec: Codec<any, unknown> = {
  encode(message) {
    const text = JSON.stringify(message);
    if (text === undefined) throw new TypeError(`jsonCodec: ${typeof message} cannot be encoded as JSON.`);
    return text;
  },
  decode(data) {
    if (typeof data === 'string') return JSON.parse(data);
    if (data instanceof ArrayBuffer) return JSON.parse((decoder ??= new TextDecoder()).decode(data));
    throw new TypeError('jsonCodec: cannot decode a Blob synchronously; use binaryType "arraybuffer".');
  },
};
