export { SharedSocket } from './shared-socket.js';
export type { LeaderSocket, LeaderSocketClass, SharedSocketArgs, SharedSocketEvents, SharedSocketOptions } from './options.js';
export { browserCoordination, type ChannelLike, type Coordination, type LockManagerLike, type PageLike } from './coordination.js';
