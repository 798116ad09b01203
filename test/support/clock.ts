/** A clock for tests that count per minute. */
import type { Clock } from '../../src/clock.ts';

/**
 * The time stopped half-way through the current minute: a per-minute window cannot roll
 * over in the middle of a test, and requests signed with the real time stay well inside
 * the `iat` window.
 */
export function fixedClock(): Clock {
  const now = Math.floor(Date.now() / 60_000) * 60_000 + 30_000;
  return () => now;
}
