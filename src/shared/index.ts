export { SharedSocket, type SharedSocketArgs, type SharedSocketOptions } from './shared-socket.js';
export { browserCoordination, type ChannelLike, type Coordination, type LockManagerLike, type PageLike } from './coordination.js';
