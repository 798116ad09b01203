/**
 * Control characters as FORMATS.md's common rules count them: Unicode Cc (C0, DEL, C1)
 * other than TAB, LF and CR. A record's values are checked against them, and so is the
 * free text staff type into filters and reasons.
 */

/** Whether the UTF-16 code unit `c` is such a control character. */
export function isControl(c: number): boolean {
  return c < 0x20 ? c !== 0x09 && c !== 0x0a && c !== 0x0d : c >= 0x7f && c <= 0x9f;
}

/** Whether `text` holds such a control character. A loop, not a regular expression: values are short, and this runs for every one of them. */
export function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (isControl(text.charCodeAt(i))) return true;
  }
  return false;
}
