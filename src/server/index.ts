export { ResumeServer, attachResume, type ResumeAuthorization, type ResumeServerEvents, type ResumeServerOptions } from './resume-server.js';
export { ResumeSession, type SessionDropReason, type SessionEndReason, type SessionEvents, type SessionSendResult } from './session.js';
export { MemoryStore, type SessionRecord, type SessionStore, type StoredMessage } from './store.js';
export { ResumeError, type ResumeErrorCode } from '../resume/errors.js';
