export { ResumeServer, attachResume, type ResumeServerEvents } from './resume-server.js';
export type { ResumeAuthorization, ResumeServerOptions } from './options.js';
export { ResumeSession } from './session.js';
export type { SessionDropReason, SessionEndReason, SessionEvents, SessionSendResult } from './events.js';
export { MemoryStore, type SessionRecord, type SessionStore, type StoredMessage } from './store.js';
export { ResumeError, type ResumeErrorCode } from '../resume/errors.js';
