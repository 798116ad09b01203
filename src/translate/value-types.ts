/**
 * Named value types a mapping may give a field. Each reads a raw tree value into its
 * canonical form and writes it back, so every rule in a mapping works both ways.
 * Text is never trimmed or turned into a number on the way in (FORMATS.md common rules).
 */
import type { TreeValue } from '../parse/tree.ts';

export type ReadResult = { ok: true; value: string | number | boolean } | { ok: false; code: 'invalid-type' | 'invalid-value' | 'invalid-date'; message: string };

export interface ValueType {
  /** `textual` is true where the syntax carries every scalar as text (XML, CSV). */
  read(raw: TreeValue, textual: boolean): ReadResult;
  /**
   * The canonical value when `read` would accept `raw`, else undefined. The hot path of a
   * large document asks this first: it allocates no result object, and `read` is only
   * called to explain a value this refused.
   */
  accept(raw: TreeValue, textual: boolean): string | number | boolean | undefined;
  /** Canonical value to the raw value a writer emits (textual writers stringify it). */
  write(value: string | number | boolean): string | number | boolean;
}

const fail = (code: 'invalid-type' | 'invalid-value' | 'invalid-date', message: string): ReadResult => ({ ok: false, code, message });

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

/**
 * Days in a month, for rejecting dates like 2026-02-30. Arithmetic, not a Date: this runs
 * for every date of every record. Years 0 to 99 count as 1900 to 1999, as `Date.UTC`
 * (which this replaced) counts them, so that no verdict changed.
 */
function realDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const y = year >= 0 && year <= 99 ? 1900 + year : year;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  return day <= (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!);
}

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

/** The number written by the ASCII digits text[from, to), or -1 when one is not a digit. */
function digitsAt(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (!isDigit(c)) return -1;
    n = n * 10 + (c - 0x30);
  }
  return n;
}

/** `YYYY-MM-DD` and a real day, read character by character (the same verdict as /^(\d{4})-(\d{2})-(\d{2})$/ and realDate). */
function isoDate(text: string): string | undefined {
  if (text.length !== 10 || text.charCodeAt(4) !== 0x2d || text.charCodeAt(7) !== 0x2d) return undefined;
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 7);
  const day = digitsAt(text, 8, 10);
  if (year < 0 || month < 0 || day < 0) return undefined;
  return realDate(year, month, day) ? text : undefined;
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):([0-5]\d):([0-5]\d)(\.\d{1,3})?(Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;

/** Validates an RFC 3339 timestamp as FORMATS.md restricts it; returns it unchanged. */
export function parseTimestamp(text: string): string | undefined {
  const m = TIMESTAMP.exec(text);
  if (!m) return undefined;
  return realDate(Number(m[1]), Number(m[2]), Number(m[3])) ? text : undefined;
}

/** Milliseconds since the epoch of a timestamp `parseTimestamp` accepted. */
export function timestampMillis(text: string): number {
  return Date.parse(text);
}

function requireText(raw: TreeValue): string | ReadResult {
  if (typeof raw !== 'string') return fail('invalid-type', `must be text, not ${describe(raw)}`);
  if (raw === '') return fail('invalid-value', 'must not be empty');
  return raw;
}

function describe(raw: TreeValue): string {
  if (raw === null) return 'null';
  if (Array.isArray(raw)) return 'a list';
  return typeof raw === 'object' ? 'an object' : `a ${typeof raw}`;
}

/** A type whose `read` is rare (the envelope, MX documents): `accept` is whatever `read` accepts. */
function acceptingAsRead(type: Omit<ValueType, 'accept'>): ValueType {
  return {
    ...type,
    accept(raw, textual) {
      const r = type.read(raw, textual);
      return r.ok ? r.value : undefined;
    },
  };
}

const text: ValueType = {
  read(raw) {
    const t = requireText(raw);
    return typeof t === 'string' ? { ok: true, value: t } : t;
  },
  accept: (raw) => (typeof raw === 'string' && raw !== '' ? raw : undefined),
  write: (value) => String(value),
};

const date: ValueType = {
  read(raw) {
    const t = requireText(raw);
    if (typeof t !== 'string') return t;
    return isoDate(t) ? { ok: true, value: t } : fail('invalid-date', `"${t}" is not a date in the form YYYY-MM-DD`);
  },
  accept: (raw) => (typeof raw === 'string' ? isoDate(raw) : undefined),
  write: (value) => String(value),
};

/** `DD/MM/AAAA` (MX) ↔ `YYYY-MM-DD`. */
const dateDmy = acceptingAsRead({
  read(raw) {
    const t = requireText(raw);
    if (typeof t !== 'string') return t;
    const m = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(t);
    const iso = m ? isoDate(`${m[3]}-${m[2]}-${m[1]}`) : undefined;
    return iso ? { ok: true, value: iso } : fail('invalid-date', `"${t}" is not a date in the form DD/MM/AAAA`);
  },
  write(value) {
    const [y, m, d] = String(value).split('-');
    return `${d}/${m}/${y}`;
  },
});

const timestamp = acceptingAsRead({
  read(raw) {
    const t = requireText(raw);
    if (typeof t !== 'string') return t;
    return parseTimestamp(t) ? { ok: true, value: t } : fail('invalid-date', `"${t}" is not an RFC 3339 timestamp with Z or ±hh:mm and at most three fraction digits`);
  },
  write: (value) => String(value),
});

const MX_OFFSET_MINUTES = -6 * 60;

/**
 * `DD/MM/AAAA HH:MM:SS` in UTC−06:00 with no offset written (MX) ↔ RFC 3339 with
 * `-06:00`. Written from another offset, the instant is converted exactly.
 */
const timestampMx = acceptingAsRead({
  read(raw) {
    const t = requireText(raw);
    if (typeof t !== 'string') return t;
    const m = /^(\d{2})\/(\d{2})\/(\d{4}) (\d{2}):(\d{2}):(\d{2})$/.exec(t);
    const iso = m ? parseTimestamp(`${m[3]}-${m[2]}-${m[1]}T${m[4]}:${m[5]}:${m[6]}-06:00`) : undefined;
    return iso ? { ok: true, value: iso } : fail('invalid-date', `"${t}" is not a timestamp in the form DD/MM/AAAA HH:MM:SS`);
  },
  write(value) {
    const s = String(value);
    // Seconds resolution: MX timestamps carry no fraction, so a fraction is dropped.
    const local = new Date(timestampMillis(s) + MX_OFFSET_MINUTES * 60_000);
    const p = (n: number) => String(n).padStart(2, '0');
    return `${p(local.getUTCDate())}/${p(local.getUTCMonth() + 1)}/${local.getUTCFullYear()} ${p(local.getUTCHours())}:${p(local.getUTCMinutes())}:${p(local.getUTCSeconds())}`;
  },
});

const integer = acceptingAsRead({
  read(raw, textual) {
    if (textual) {
      if (typeof raw !== 'string' || !/^(0|[1-9]\d{0,15})$/.test(raw)) return fail('invalid-value', `"${String(raw)}" is not a whole number`);
      const n = Number(raw);
      return Number.isSafeInteger(n) ? { ok: true, value: n } : fail('invalid-value', `${raw} is too large`);
    }
    if (typeof raw !== 'number' || !Number.isSafeInteger(raw)) return fail('invalid-type', `must be a whole number, not ${describe(raw)}`);
    return { ok: true, value: raw };
  },
  write: (value) => Number(value),
});

const boolean: ValueType = {
  read(raw, textual) {
    if (textual) {
      if (raw === 'true' || raw === 'false') return { ok: true, value: raw === 'true' };
      return fail('invalid-value', `"${String(raw)}" is not true or false`);
    }
    if (typeof raw !== 'boolean') return fail('invalid-type', `must be true or false, not ${describe(raw)}`);
    return { ok: true, value: raw };
  },
  accept(raw, textual) {
    if (textual) return raw === 'true' ? true : raw === 'false' ? false : undefined;
    return typeof raw === 'boolean' ? raw : undefined;
  },
  write: (value) => Boolean(value),
};

export const valueTypes = { text, date, dateDmy, timestamp, timestampMx, integer, boolean } as const satisfies Record<string, ValueType>;
export type ValueTypeName = keyof typeof valueTypes;
