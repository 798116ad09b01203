/**
 * MID (Manufacturer Identification Code) construction, DOMAIN.md "How a foreign operator
 * is linked on U.S. entries": 19 CFR Part 102 appendix plus the decisions the project
 * records where the regulation is silent. A constructed MID is only ever compared with a
 * registered one (a mismatch opens a discrepancy); it never rejects a record.
 *
 * Decisions beyond DOMAIN.md, each tested:
 * - Folding also maps Œ→OE, Đ/Ð→D, Þ→TH (with ß→SS, Æ→AE, Ø→O, Ł→L from DOMAIN.md).
 * - Apostrophes are ' ’ ‘ ʼ ʹ ` ´ and the full-width ＇: all dropped, never separators.
 * - Digits in the name are kept as characters of their word (`3M Company` → `3MCOM`),
 *   but a name with no letter at all cannot give a MID.
 * - Initials are single letters; they join when separated by `.`, a single space, or `. `
 *   (`A. B. C. Company` → `ABCCOM`). A word made of two or more initials is never a
 *   skipped word (`A.N.D. Corp` → `ANDCOR`); a lone `A` is the article and is skipped.
 * - A name whose words are all skipped words cannot give a MID.
 * - The largest street number is compared and written without leading zeros (`0045` → `45`).
 * - The city part is its first three letters, digits and punctuation ignored; no city
 *   (or none in Latin letters) leaves the part empty, as a street without a number does.
 * - Country: `XI` (Northern Ireland) gives `GB` and `EL` (Greece) gives `GR`, their ISO
 *   codes; any other code that is not ISO 3166-1 alpha-2 cannot give a MID. Country and
 *   province are upper-cased; an empty string counts as absent.
 */
import { canadianProvinceMidCodes, isoCountryCodes } from './countries.ts';

/** The name and address a MID is constructed from (street: MX `Calle` + `NumeroExterior`). */
export interface MidSource {
  name: string;
  street?: string | undefined;
  city?: string | undefined;
  country?: string | undefined;
  region?: string | undefined;
  /** The partner's country, used when the address has none. */
  fallbackCountry?: string | undefined;
}

/** The four parts of a constructed MID; `number` and `city` may be empty. */
export interface MidParts {
  country: string;
  name: string;
  number: string;
  city: string;
}

const MAX_MID_LENGTH = 15;

// explainMid aligns at most this much after the country: longer text is not a MID at
// all, and aligning it would only cost time (the search is quadratic).
const MAX_ALIGNED_LENGTH = 32;

// Letters NFKD does not decompose into A–Z; upper and lower case both listed because
// the map is applied before upper-casing.
const SPECIAL_LETTERS: ReadonlyMap<string, string> = new Map([
  ['ß', 'SS'], ['ẞ', 'SS'], ['Æ', 'AE'], ['æ', 'AE'], ['Ø', 'O'], ['ø', 'O'], ['Ł', 'L'], ['ł', 'L'],
  ['Œ', 'OE'], ['œ', 'OE'], ['Đ', 'D'], ['đ', 'D'], ['Ð', 'D'], ['ð', 'D'], ['Þ', 'TH'], ['þ', 'TH'],
]);

const APOSTROPHES = /['\u2019\u2018\u02BC\u02B9`\u00B4\uFF07]/g;

const SKIPPED_WORDS: ReadonlySet<string> = new Set(['A', 'AN', 'AND', 'OF', 'THE']);

// Between two initials, these separators keep them one word.
const INITIAL_JOINERS: ReadonlySet<string> = new Set(['.', ' ', '. ']);

/** Folds text to upper-case A–Z and digits; every other character survives as a separator. */
function fold(text: string): string {
  // Apostrophes go first: NFKD would turn ´ into a space, which is a separator.
  const decomposed = text.replace(APOSTROPHES, '').normalize('NFKD').replace(/\p{M}/gu, '');
  let out = '';
  for (const ch of decomposed) out += SPECIAL_LETTERS.get(ch) ?? ch;
  return out.toUpperCase();
}

interface Token {
  text: string;
  /** The separator text right before this token (empty for the first). */
  before: string;
}

function tokens(folded: string): Token[] {
  const out: Token[] = [];
  const re = /[A-Z0-9]+/g;
  let last = 0;
  for (let m = re.exec(folded); m !== null; m = re.exec(folded)) {
    out.push({ text: m[0], before: folded.slice(last, m.index) });
    last = m.index + m[0].length;
  }
  return out;
}

interface Word {
  text: string;
  fromInitials: boolean;
}

/** Words of a folded name, with runs of joined initials merged into one word. */
function nameWords(folded: string): Word[] {
  const words: Word[] = [];
  let run: string[] = [];
  const flush = (): void => {
    if (run.length > 0) words.push({ text: run.join(''), fromInitials: run.length > 1 });
    run = [];
  };
  for (const t of tokens(folded)) {
    const initial = /^[A-Z]$/.test(t.text);
    if (initial && run.length > 0 && INITIAL_JOINERS.has(t.before)) {
      run.push(t.text);
      continue;
    }
    flush();
    if (initial) run.push(t.text);
    else words.push({ text: t.text, fromInitials: false });
  }
  flush();
  return words;
}

/** The name part: first three characters of each of the first two words left after skipping. */
function namePart(name: string): string | { error: string } {
  const folded = fold(name);
  if (!/[A-Z]/.test(folded)) return { error: 'the name has no Latin letters' };
  const kept = nameWords(folded).filter((w) => w.fromInitials || !SKIPPED_WORDS.has(w.text));
  if (kept.length === 0) return { error: 'the name has only skipped words (a, an, and, of, the)' };
  return kept
    .slice(0, 2)
    .map((w) => w.text.slice(0, 3))
    .join('');
}

/** The number part: first four digits of the largest number in the street line, or empty. */
function numberPart(street: string | undefined): string {
  if (street === undefined) return '';
  // `12-34` and `1.234` are one number: these marks between two digits are dropped.
  const joined = street.normalize('NFKD').replace(/(\d)[,.\-/](?=\d)/g, '$1');
  let largest: string | undefined;
  for (const m of joined.matchAll(/\d+/g)) {
    const value = m[0].replace(/^0+(?=\d)/, '');
    if (largest === undefined || compareDigits(value, largest) > 0) largest = value;
  }
  return largest === undefined ? '' : largest.slice(0, 4);
}

/** Compares two digit strings without leading zeros by value, however long they are. */
function compareDigits(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The city part: its first three letters after folding. */
function cityPart(city: string | undefined): string {
  return city === undefined ? '' : fold(city).replace(/[^A-Z]/g, '').slice(0, 3);
}

// Codes partners write that are not ISO 3166-1 but name an ISO country.
const COUNTRY_ALIASES: ReadonlyMap<string, string> = new Map([
  ['XI', 'GB'],
  ['EL', 'GR'],
]);

function present(s: string | undefined): s is string {
  return s !== undefined && s !== '';
}

/** The country part: ISO alpha-2 of the address (else the fallback); Canada its province code. */
function countryPart(source: MidSource): string | { error: string } {
  const raw = present(source.country) ? source.country : source.fallbackCountry;
  if (!present(raw)) return { error: 'no country: the address has none and no fallback country was given' };
  const upper = raw.toUpperCase();
  const country = COUNTRY_ALIASES.get(upper) ?? upper;
  if (!isoCountryCodes.has(country)) return { error: `the country ${raw} is not an ISO 3166 alpha-2 code` };
  if (country !== 'CA') return country;
  const province = present(source.region) ? canadianProvinceMidCodes.get(source.region.toUpperCase()) : undefined;
  return province ?? { error: 'a Canadian address needs a province code (AB, BC, MB, NB, NL, NT, NS, NU, ON, PE, QC, SK, YT)' };
}

/** The parts of the MID constructed from `source`, or why it cannot be constructed. */
export function midParts(source: MidSource): MidParts | { error: string } {
  const country = countryPart(source);
  if (typeof country !== 'string') return country;
  const name = namePart(source.name);
  if (typeof name !== 'string') return name;
  return { country, name, number: numberPart(source.street), city: cityPart(source.city) };
}

/** The MID constructed from `source` (at most 15 characters), or undefined when it cannot be. */
export function buildMid(source: MidSource): string | undefined {
  const parts = midParts(source);
  if ('error' in parts) return undefined;
  // The parts are at most 2 + 6 + 4 + 3 = 15 already; the cut keeps the rule explicit.
  return (parts.country + parts.name + parts.number + parts.city).slice(0, MAX_MID_LENGTH);
}

/** How a registered MID compares with the one constructed from name and address. */
export interface MidExplanation {
  matches: boolean;
  expected?: string;
  given: string;
  /** One plain sentence per part that differs. */
  differences: string[];
  /** The parts of the construction, and the given MID cut into the same parts, so that a reader can mark the one that differs. */
  expectedParts?: MidParts;
  givenParts?: MidParts;
}

/** Compares a registered MID with the construction and names each part that differs. */
export function explainMid(given: string, source: MidSource): MidExplanation {
  const parts = midParts(source);
  if ('error' in parts) {
    return { matches: false, given, differences: [`the MID cannot be constructed: ${parts.error}`] };
  }
  const expected = (parts.country + parts.name + parts.number + parts.city).slice(0, MAX_MID_LENGTH);
  if (given === expected) return { matches: true, expected, given, differences: [], expectedParts: parts, givenParts: parts };

  const differences: string[] = [];
  const givenCountry = given.slice(0, 2);
  if (givenCountry !== parts.country) differences.push(sentence('country', parts.country, givenCountry));
  const rest = given.slice(2);
  if (rest.length > MAX_ALIGNED_LENGTH) {
    differences.push(`the MID is ${given.length} characters long, a MID has at most ${MAX_MID_LENGTH}`);
    return { matches: false, expected, given, differences };
  }
  const split = align(rest, parts);
  for (const part of ['name', 'number', 'city'] as const) {
    if (split[part] !== parts[part]) differences.push(sentence(part, parts[part], split[part]));
  }
  if (differences.length === 0) differences.push(`the MID differs from the constructed ${expected}`);
  return { matches: false, expected, given, differences, expectedParts: parts, givenParts: { country: givenCountry, ...split } };
}

function sentence(part: string, expected: string, given: string): string {
  return `${part} part is ${expected === '' ? 'absent' : expected}, the MID has ${given === '' ? 'none' : given}`;
}

type Split = Pick<MidParts, 'name' | 'number' | 'city'>;

/**
 * Splits what follows the country in a given MID into name, number and city parts. The
 * parts carry no delimiters, so this is a best reasonable alignment, not a parse: of all
 * the ways to cut the text in three, take the one that (1) breaks the fewest shape rules
 * of a constructed part (name 1–6 characters, number 0–4 digits, city 0–3 letters), then
 * (2) differs from the expected parts in the fewest parts, then (3) needs the fewest
 * character edits, then (4) keeps the name and city lengths closest to the expected ones.
 * The first cut found wins a tie, so the result is deterministic.
 */
function align(rest: string, expected: Split): Split {
  let best: { split: Split; score: number[] } | undefined;
  for (let i = 0; i <= rest.length; i++) {
    for (let j = i; j <= rest.length; j++) {
      const split = { name: rest.slice(0, i), number: rest.slice(i, j), city: rest.slice(j) };
      const score = scoreSplit(split, expected);
      if (best === undefined || lexicographicLess(score, best.score)) best = { split, score };
    }
  }
  return best?.split ?? { name: rest, number: '', city: '' };
}

function scoreSplit(split: Split, expected: Split): number[] {
  const shapeBreaks =
    Number(split.name.length < 1 || split.name.length > 6) +
    Number(!/^\d{0,4}$/.test(split.number)) +
    Number(!/^[A-Z]{0,3}$/.test(split.city));
  const parts = ['name', 'number', 'city'] as const;
  const differing = parts.filter((p) => split[p] !== expected[p]).length;
  const edits = parts.reduce((sum, p) => sum + editDistance(split[p], expected[p]), 0);
  const lengthGap =
    Math.abs(split.name.length - expected.name.length) + Math.abs(split.city.length - expected.city.length);
  return [shapeBreaks, differing, edits, lengthGap];
}

function lexicographicLess(a: number[], b: number[]): boolean {
  for (let k = 0; k < a.length; k++) {
    const x = a[k] ?? 0;
    const y = b[k] ?? 0;
    if (x !== y) return x < y;
  }
  return false;
}

/** Levenshtein distance; the strings here are at most a few dozen characters. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, k) => k);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, substitution));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}
