import type {
  CloseRecord,
  Codec,
  IsWireTyped,
  QueuedMessage,
  RawMessage,
  ReconnectingSocketOptions,
  SendResult,
  SocketEvents,
  SocketOpenEvent,
  StateName,
  UrlProvider,
  WireData,
} from '../index.js';
import type { ResumeDeliveredEvent, ResumeDropReason, ResumeOpenEvent, ResumeOptions, ResumeSnapshot } from '../resume/types.js';
import type { Coordination } from './coordination.js';
import type { SuccessionOf } from './succession.js';

/**
 * What the leader's connection is made with (the `Socket` option): `ReconnectingSocket`, `ResumableSocket`, or a
 * class with the same members. `ResumableSocket` (and a class that extends it) is resumable: its session moves
 * from leader to leader, as its `sharedSession` says.
 */
export interface LeaderSocketClass {
  new (url: UrlProvider, options: any): LeaderSocket;
  /** @internal How the handles pass a resumable class's session from leader to leader; absent for a plain one. */
  readonly sharedSession?: SuccessionOf;
}

/** The members of the leader's connection that a shared socket uses. */
export interface LeaderSocket {
  readonly state: StateName;
  readonly attempt: number;
  readonly protocol: string;
  readonly queued: QueuedMessage<any>[];
  readonly closed: Promise<CloseRecord>;
  on(type: any, listener: (event: any) => void): () => void;
  once(type: any, listener: (event: any) => void): () => void;
  send(message: any, options?: { ttlMs?: number }): SendResult;
  close(code?: number, reason?: string): Promise<CloseRecord>;
  clearQueue(): QueuedMessage<any>[];
  dispose(): void;
  handOff?(): ResumeSnapshot<any>;
}

/** Options of `SharedSocket`: every option of `ReconnectingSocket` (used by whichever tab leads), and these. */
export interface SharedSocketOptions<In = RawMessage, Out = [In] extends [RawMessage] ? WireData : unknown> extends ReconnectingSocketOptions<In, Out> {
  /**
   * Handles with the same URL and key share a connection; another key keeps a separate one to the same URL.
   * Required when `url` is a function (the URL cannot name the connection then).
   * @default ''
   */
  key?: string;
  /**
   * What the tabs coordinate through. `null` forces a per-tab connection.
   * @default navigator.locks, BroadcastChannel and window where all exist, otherwise `null`
   */
  coordination?: Coordination | null;
  /**
   * The class the leader's connection is made with. Pass `ResumableSocket` (from `resilient-websocket/resume`)
   * for acknowledged delivery and session resume across reconnects and leader changes: `delivered` events, and a
   * session each new leader continues. Its bytes, and those of the hand-over between leaders, come only with that
   * import. Give every handle of a key the same.
   * @default ReconnectingSocket
   */
  Socket?: LeaderSocketClass;
  /**
   * With `Socket: ResumableSocket`: the resume protocol's settings (`ackDelayMs`, `ackEvery`). The session is the
   * shared socket's own: it moves from leader to leader.
   * @default undefined
   */
  resume?: Omit<ResumeOptions, 'session'>;
}

/** `options` may be left out while `In` and `Out` are wire data, as for `ReconnectingSocket`. */
export type SharedSocketArgs<In, Out> = IsWireTyped<In, Out> extends true
  ? [options?: SharedSocketOptions<In, Out>]
  : [options: SharedSocketOptions<In, Out> & { codec: Codec<In, Out> }];

/**
 * Every event of a `SharedSocket` and its payload: the core's, and with a resumable `Socket` what it adds: `open`
 * says whether the session continued (`recovered`, `resume`, `missed`), `drop` whether a message was written
 * (`wasSent`) and may be `lost`, and `delivered` says the server acknowledged a message.
 */
export type SharedSocketEvents<In, Out> = Omit<SocketEvents<In, Out>, 'open' | 'drop'> & {
  open: SocketOpenEvent & Partial<Pick<ResumeOpenEvent, 'recovered' | 'resume' | 'missed'>>;
  drop: { readonly message: Out; readonly reason: ResumeDropReason; readonly wasSent?: boolean };
  delivered: ResumeDeliveredEvent<Out>;
};
