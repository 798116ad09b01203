/**
 * Check-digit arithmetic for the national identifiers in FORMATS.md. Each function takes
 * only the digits it needs, so the callers decide how a value is split and dashed.
 */

/** Throws unless `s` is exactly `length` ASCII digits: a wrong input is a caller bug, not data. */
function digitsOf(s: string, length: number | undefined, what: string): number[] {
  const ok = length === undefined ? /^\d+$/.test(s) : s.length === length && /^\d+$/.test(s);
  if (!ok) throw new RangeError(`${what} expects ${length ?? 'one or more'} ASCII digits`);
  return Array.from(s, Number);
}

/**
 * JP corporate number check digit (the leading digit) for the other twelve digits:
 * 9 − (Σ Pn×Qn mod 9), Pn the n-th digit counted from the right, Qn 1 for odd n, 2 for even n.
 */
export function jpCorporateCheckDigit(twelveDigits: string): number {
  // A loop over the characters, not digitsOf's array: this runs for every JP record.
  if (twelveDigits.length !== 12) throw new RangeError('jpCorporateCheckDigit expects 12 ASCII digits');
  let sum = 0;
  for (let i = 0; i < 12; i++) {
    const p = twelveDigits.charCodeAt(11 - i) - 0x30;
    if (!(p >= 0 && p <= 9)) throw new RangeError('jpCorporateCheckDigit expects 12 ASCII digits');
    // i is 0-based from the right, n = i + 1: odd n (even i) weighs 1, even n weighs 2.
    sum += p * (i % 2 === 0 ? 1 : 2);
  }
  return 9 - (sum % 9);
}

const krWeights = [1, 3, 7, 1, 3, 7, 1, 3, 5] as const;

/**
 * KR business registration number check digit (the 10th) for the first nine digits:
 * weights 1,3,7,1,3,7,1,3,5, plus floor(9th × 5 / 10); the digit is (10 − sum mod 10) mod 10.
 */
export function krBrnCheckDigit(nineDigits: string): number {
  const digits = digitsOf(nineDigits, 9, 'krBrnCheckDigit');
  let sum = 0;
  digits.forEach((d, i) => {
    sum += d * (krWeights[i] ?? 0);
  });
  sum += Math.floor(((digits[8] ?? 0) * 5) / 10);
  return (10 - (sum % 10)) % 10;
}

/** Whether a string of ASCII digits passes the Luhn (mod 10) check; anything else is false. */
export function luhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  Array.from(digits, Number)
    .reverse()
    .forEach((d, i) => {
      // Every second digit from the right is doubled; a two-digit product adds its digits.
      const v = i % 2 === 1 ? d * 2 : d;
      sum += v > 9 ? v - 9 : v;
    });
  return sum % 10 === 0;
}
