/**
 * Text a caller types into a query parameter or a staff form: a name to filter by, a
 * reason for a decision. A NUL or a lone surrogate in it made PostgreSQL refuse the
 * statement (text and jsonb hold neither), and the caller got a 500; any other control
 * character has no business in such text either. They are refused as a 400 naming the
 * parameter, before any query.
 */
import { z } from 'zod';
import { hasControl } from '../parse/control-characters.ts';

/** Whether `value` is well-formed text without control characters (FORMATS.md's, as in a record's values). */
function isTypedText(value: string): boolean {
  return value.isWellFormed() && !hasControl(value);
}

/** A zod string of 1 to `max` characters of typed text. */
export function typedText(max: number) {
  return z.string().min(1).max(max).refine(isTypedText, 'must be text without control characters or lone surrogates');
}
