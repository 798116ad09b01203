/**
 * Text a caller types into a query parameter or a staff form: a name to filter by, a
 * reason for a decision. A NUL or a lone surrogate in it made PostgreSQL refuse the
 * statement (text and jsonb hold neither), and the caller got a 500; any other control
 * character has no business in such text either. They are refused as a 400 naming the
 * parameter, before any query.
 */
import { z } from 'zod';

/** Whether `value` is well-formed text without control characters (C0 but TAB, LF and CR; DEL; C1). */
export function isTypedText(value: string): boolean {
  // eslint-disable-next-line no-control-regex -- the control characters are what is looked for
  return value.isWellFormed() && !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/.test(value);
}

/** A zod string of 1 to `max` characters of typed text. */
export function typedText(max: number) {
  return z.string().min(1).max(max).refine(isTypedText, 'must be text without control characters or lone surrogates');
}
