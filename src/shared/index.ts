export { SharedSocket } from './shared-socket.js';
export type { LeaderSocket, LeaderSocketClass, SharedSocketArgs, SharedSocketEvents, SharedSocketOptions } from './options.js';
export { browserCoordination, type ChannelLike, type Coordination, type LockManagerLike, type PageLike } from './coordination.js';
// What a resumable leader's connection (`Socket: ResumableSocket`) adds to a handle's events and options.
export type { ResumeDeliveredEvent, ResumeDropReason, ResumeOpenEvent, ResumeOptions, ResumeOutcome, ResumeSnapshot } from '../resume/types.js';
