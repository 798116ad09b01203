/** Every string in `value`, member names included, is well-formed text (no lone surrogate). */
export function allWellFormed(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const v = pending.pop();
    if (typeof v === 'string' && !v.isWellFormed()) return false;
    if (typeof v === 'object' && v !== null) {
      for (const [k, child] of Object.entries(v)) {
        if (!k.isWellFormed()) return false;
        pending.push(child);
      }
    }
  }
  return true;
}
