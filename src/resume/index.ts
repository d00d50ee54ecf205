export { ResumableSocket, type ResumableSocketArgs } from './resumable-socket.js';
export { ResumeError, type ResumeErrorCode } from './errors.js';
export type {
  ResumableSocketOptions,
  ResumeDeliveredEvent,
  ResumeDropEvent,
  ResumeDropReason,
  ResumeErrorEvent,
  ResumeOpenEvent,
  ResumeOptions,
  ResumeOutcome,
  ResumeSnapshot,
  ResumeSocketEvents,
} from './types.js';
