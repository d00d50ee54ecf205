import type { ReconnectingSocket, StateName } from '../../src/index.js';

/**
 * The state the events tell, as a listener sees them go out. Events go out one at a time after each call has
 * made its whole change, so inside a listener `socket.state` may be ahead of the event being handled; what must
 * hold is the stream: `state` events chain from the state at `watch` time, and `open`, `message` and `heartbeat`
 * come only while the last announced state is `open` (`message` also while `closing`). Register it first, so it
 * sees each event before the listeners it judges.
 */
export function watchStream(socket: ReconnectingSocket<any, any>) {
  let announced: StateName = socket.state;
  const violations: string[] = [];
  socket.on('state', ({ from, to }) => {
    if (from !== announced) violations.push(`state ${from}→${to} after ${announced}`);
    announced = to;
  });
  const onlyIn = (type: string, states: StateName[]) => socket.on(type as 'open', () => states.includes(announced) || violations.push(`${type} while ${announced}`));
  onlyIn('open', ['open']);
  onlyIn('message', ['open', 'closing']);
  onlyIn('heartbeat', ['open']);
  return {
    /** The last state announced by a `state` event. */
    get announced() {
      return announced;
    },
    violations,
  };
}
