/** Staff roles and which staff acts each allows: the one table every staff route asks. */

/**
 * The roles a staff token may carry: a `reviewer` reads everything and decides
 * discrepancies; an `admin` may also import C-TPAT members, release held batches and
 * replay or skip dead letters; a `feed-reader` (a downstream system) reads the benefit
 * feed and nothing else.
 */
export const staffRoles = ['reviewer', 'admin', 'feed-reader'] as const;
export type StaffRole = (typeof staffRoles)[number];

/** Which roles each kind of staff act needs: one of them is enough. */
export const rolesFor = {
  /** Reading staff data: partners, exchanges, recognitions, discrepancies, deliveries, the audit log. */
  read: ['reviewer', 'admin'],
  /** Deciding a discrepancy. */
  decide: ['reviewer', 'admin'],
  /** Imports, releases, replays, skips, snapshots: acts that change what is sent or applied. */
  administer: ['admin'],
  /** The benefit change feed. */
  readFeed: ['reviewer', 'admin', 'feed-reader'],
} as const satisfies Record<string, readonly StaffRole[]>;

/** Whether `s` is a staff role. */
export function isStaffRole(s: string): s is StaffRole {
  return (staffRoles as readonly string[]).includes(s);
}
