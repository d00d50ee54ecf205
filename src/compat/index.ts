/** `resilient-websocket/compat`: the partysocket flavour (see `./partysocket.ts`). */
export * from './partysocket.js';
export { default } from './partysocket.js';
