/**
 * The gateway's one clock. Every component that reads the time (signature windows,
 * receipts, rate-limit windows, staff tokens, key notice periods, "as of today") takes
 * it from the composition root, so a test sets the time once instead of waiting for it.
 */

/** Milliseconds since the epoch, like Date.now. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

/** Whole seconds since the epoch, as JWT `iat` counts them. */
export const secondsOf = (clock: Clock): number => Math.floor(clock() / 1000);

/** The clock's day (UTC), `YYYY-MM-DD`. */
export const todayOf = (clock: Clock): string => new Date(clock()).toISOString().slice(0, 10);
