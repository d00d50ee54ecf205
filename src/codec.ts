import type { Codec, WireData } from './options.js';

/** Passes wire data through untouched: strings stay strings, binary arrives as `ArrayBuffer` (or `Blob`). */
export const rawCodec: Codec<string | ArrayBuffer | Blob, WireData> = {
  encode: (message) => message,
  decode: (data) => data,
};

/**
 * The type of {@link jsonCodec}: a ready codec whose messages are `unknown`, and a function that returns the
 * same codec typed with your message types.
 */
export interface JsonCodec extends Codec<unknown, unknown> {
  /**
   * The same codec, typed: `In` is what you receive, `Out` what you send. JSON is not checked at run time, so
   * these types are a promise your server keeps; validate `In` yourself where it matters.
   */
  <In = unknown, Out = unknown>(): Codec<In, Out>;
  /** Parses a text frame, or a binary frame as UTF-8, as JSON. Throws for a `Blob` and for invalid JSON. */
  decode<In = unknown>(data: string | ArrayBuffer | Blob): In;
}

let decoder: TextDecoder | undefined;

/**
 * JSON in text frames. Binary frames are read as UTF-8 JSON; a `Blob` cannot be decoded synchronously and fails.
 *
 * Use it as it is, and messages are `unknown` (narrow them yourself), or pass your types, either to the socket
 * or to the codec:
 *
 * ```ts
 * new ReconnectingSocket(url, { codec: jsonCodec });                    // ReconnectingSocket<unknown, unknown>
 * new ReconnectingSocket<Incoming, Outgoing>(url, { codec: jsonCodec }); // ReconnectingSocket<Incoming, Outgoing>
 * new ReconnectingSocket(url, { codec: jsonCodec<Incoming, Outgoing>() }); // the same, inferred
 * ```
 */
export const jsonCodec: JsonCodec = /* @__PURE__ */ Object.assign(
  // One shared function object: calling it returns itself, so it allocates nothing and only narrows the type.
  (() => jsonCodec) as () => Codec<any, any>,
  {
    encode(message: unknown): string {
      const text = JSON.stringify(message);
      if (text === undefined) throw new TypeError(`jsonCodec: ${typeof message} cannot be encoded as JSON.`);
      return text;
    },
    decode(data: string | ArrayBuffer | Blob): any {
      if (typeof data === 'string') return JSON.parse(data);
      if (data instanceof ArrayBuffer) return JSON.parse((decoder ??= new TextDecoder()).decode(data));
      throw new TypeError('jsonCodec: cannot decode a Blob synchronously; use binaryType "arraybuffer".');
    },
  },
);
