/**
 * Small, pure, named text transforms that outbound rules may apply. A mapping names
 * them; the loader refuses a mapping that names one missing from this table.
 */

/** The first white-space separated token with a digit in it: a street's house number. */
function houseNumberOf(street: string): { number: string; rest: string } | undefined {
  const tokens = street.split(/\s+/).filter((t) => t !== '');
  const i = tokens.findIndex((t) => /\d/.test(t));
  if (i < 0) return undefined;
  const number = tokens[i]!.replace(/,$/, '');
  const rest = tokens.filter((_, j) => j !== i).join(' ').replace(/^,\s*/, '');
  return { number, rest };
}

export const textTransforms = {
  /** The house number of a street line, `S/N` (sin número) when it has none. */
  houseNumber: (street: string): string => houseNumberOf(street)?.number ?? 'S/N',
  /** A street line without its house number. */
  streetWithoutNumber: (street: string): string => houseNumberOf(street)?.rest || street,
  upper: (value: string): string => value.toUpperCase(),
} as const satisfies Record<string, (value: string) => string>;

export type TextTransformName = keyof typeof textTransforms;
