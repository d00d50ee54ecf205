import type { IncomingMessage } from 'node:http';
import { ResumeError, describe } from '../resume/errors.js';
import { PROTOCOL, parseOffer, type ParsedOffer } from '../resume/wire.js';

/** A `ws` server's `handleProtocols`. */
export type HandleProtocols = (protocols: Set<string>, request: IncomingMessage) => string | false;

/** What a client that runs the protocol offered; `isBadSession`: its session offer was malformed (it gets `unknown`). */
export type Offer = ParsedOffer & { isBadSession?: boolean };

/**
 * The subprotocol negotiation (docs/protocol.md §1) as a `handleProtocols` for the `ws` server: the resume variant
 * of the application's choice when the client offers the protocol, and otherwise what the server would have
 * answered without the helper. `previous` (the server's own `handleProtocols`, or `ws`'s default: the first offer)
 * chooses among the application's subprotocols. The offer of each connection that will run the protocol is kept
 * in `offers`, by its upgrade request.
 */
export function negotiation(previous: HandleProtocols | undefined, offers: WeakMap<IncomingMessage, Offer>, report: (error: ResumeError) => void): HandleProtocols {
  const choose = (protocols: Set<string>, request: IncomingMessage): string | false => {
    try {
      return previous ? previous(protocols, request) : (protocols.values().next().value ?? false);
    } catch (error) {
      report(new ResumeError('HOOK_THREW', `resume: handleProtocols threw: ${describe(error)}; no subprotocol selected`, { cause: error }));
      return false;
    }
  };
  return (protocols, request) => {
    let offer: Offer;
    try {
      offer = parseOffer(protocols);
    } catch (error) {
      report(new ResumeError('RESUME_PROTOCOL', `resume: ${describe(error)}; the client gets a new session`));
      offer = { ...parseOffer([...protocols].filter((value) => !value.startsWith(`${PROTOCOL}.`))), isBadSession: true };
    }
    // Not a resume client: what the server would have answered without the helper.
    if (!offer.isResumable) return choose(protocols, request);
    const application = offer.application;
    const chosen = application.length ? choose(new Set(application), request) : false;
    if (!application.length) {
      offers.set(request, offer);
      return PROTOCOL;
    }
    if (chosen === false || !protocols.has(`${PROTOCOL}+${chosen}`)) return chosen;
    offers.set(request, offer);
    return `${PROTOCOL}+${chosen}`;
  };
}
