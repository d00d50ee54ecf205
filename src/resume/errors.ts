/**
 * What went wrong in the resume layer, as a stable code:
 *
 * - `RESUME_PROTOCOL`: the peer sent a frame that breaks the resume protocol (malformed, out of place, or
 *   acknowledging messages that were never sent). The message names the frame and what was wrong.
 * - `WELCOME_TIMEOUT`: the server selected the resume protocol but sent no WELCOME within `connectTimeoutMs`.
 * - `HOOK_THREW`: a server hook (`identify`, `authorizeResume`) threw or rejected; the resume was refused.
 * - `STORE_FAILED`: the session store threw or rejected.
 * - `LISTENER_THREW`: one of your listeners on the server helper or a session threw; the others still ran.
 */
export type ResumeErrorCode = 'RESUME_PROTOCOL' | 'WELCOME_TIMEOUT' | 'HOOK_THREW' | 'STORE_FAILED' | 'LISTENER_THREW';

/** An error of the resume layer (client or server helper). Never thrown at you: it arrives as an `error` event. */
export class ResumeError extends Error {
  override readonly name = 'ResumeError';
  /** The stable code; switch on this, not on the message. */
  readonly code: ResumeErrorCode;

  constructor(code: ResumeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }

  /** Keeps `name`, `code` and `message` in `JSON.stringify`. */
  toJSON(): { name: 'ResumeError'; code: ResumeErrorCode; message: string } {
    return { name: this.name, code: this.code, message: this.message };
  }
}

/** The message of an error, or the thing itself as text. */
export const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error));
