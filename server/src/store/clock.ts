/** Milliseconds since the epoch. Injected so tests can move time (lease expiry, backoff) without sleeping. */
export type Clock = () => number;
export const systemClock: Clock = () => Date.now();
