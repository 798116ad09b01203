/**
 * The fields of CSV text that `scanLines` (or `quickScanLines`) has accepted, read in
 * place. The scan has already refused every fault of quoting and line ends, so what is
 * left is simple: a field is quoted (`""` inside is a quote) or runs to the next comma or
 * CR, and a line ends with CRLF or the end of the text. papaparse, used before, gave the
 * same fields (test/parse/csv-fields.property.test.ts) but made an array per line and
 * every line's array lived until the whole document was split: the collector copied them
 * all (issue 10 translate-jp).
 */

const QUOTE = 0x22;
const COMMA = 0x2c;

/** A cursor over the fields of scanned CSV text, one line at a time. */
export class CsvFields {
  /** Where the next field starts. */
  private at = 0;
  /** The first CR at or after `at`, -1 when there is none; -2 before it is looked for. */
  private nextCr = -2;
  /** Whether the quoted field `closingQuote` last read has a `""` in it. */
  private doubled = false;
  /** Whether the field just read was the last of its line. */
  lineEnded = false;

  constructor(private readonly text: string) {}

  /** Moves to the line that starts at `offset`. */
  lineAt(offset: number): void {
    // The CR found ahead of a later line may lie beyond this one's.
    if (offset < this.at) this.nextCr = -2;
    this.at = offset;
    this.lineEnded = false;
  }

  /** Where the line after the one just finished starts (the text's length, or beyond it, when there is none). */
  get offset(): number {
    return this.at;
  }

  /** The next field's text, unquoted; the cursor moves past it. */
  next(): string {
    const { text, at } = this;
    if (text.charCodeAt(at) === QUOTE) {
      const close = this.closingQuote(at);
      const raw = text.slice(at + 1, close);
      this.passTerminator(close + 1);
      return this.doubled ? raw.replaceAll('""', '"') : raw;
    }
    const end = this.unquotedEnd(at);
    this.passTerminator(end);
    return text.slice(at, end);
  }

  /** Moves past the next field without making its text. */
  skip(): void {
    const { at } = this;
    this.passTerminator(this.text.charCodeAt(at) === QUOTE ? this.closingQuote(at) + 1 : this.unquotedEnd(at));
  }

  /** The quote that closes the quoted field opening at `open` (the scan made sure there is one). */
  private closingQuote(open: number): number {
    const { text } = this;
    let from = open + 1;
    this.doubled = false;
    for (;;) {
      const quote = text.indexOf('"', from);
      if (text.charCodeAt(quote + 1) !== QUOTE) return quote;
      this.doubled = true;
      from = quote + 2;
    }
  }

  /** Where an unquoted field starting at `from` ends: at its comma, the CR of its line's end, or the end of the text. */
  private unquotedEnd(from: number): number {
    const { text } = this;
    let cr = this.nextCr;
    // An unquoted field holds no quote, comma or CR: the first CR after its start ends it unless a comma comes first.
    if (cr < from && cr !== -1) cr = this.nextCr = text.indexOf('\r', from);
    const comma = text.indexOf(',', from);
    if (comma !== -1 && (cr === -1 || comma < cr)) return comma;
    return cr === -1 ? text.length : cr;
  }

  /** Moves past the comma, or the CRLF that ends the line, at `end`. */
  private passTerminator(end: number): void {
    if (end < this.text.length && this.text.charCodeAt(end) === COMMA) {
      this.at = end + 1;
      return;
    }
    this.lineEnded = true;
    this.at = end + 2;
  }
}

/** Each line of scanned CSV text: where it starts, its first field (its kind) and how many fields it has. */
export interface CsvLines {
  offsets: number[];
  kinds: string[];
  fieldCounts: number[];
}

/** The lines of scanned CSV text; a final CRLF ends the last line, it does not start an empty one. */
export function csvLines(text: string): CsvLines {
  const lines: CsvLines = { offsets: [], kinds: [], fieldCounts: [] };
  const fields = new CsvFields(text);
  let offset = 0;
  while (offset < text.length) {
    fields.lineAt(offset);
    lines.offsets.push(offset);
    lines.kinds.push(fields.next());
    let count = 1;
    while (!fields.lineEnded) {
      fields.skip();
      count++;
    }
    lines.fieldCounts.push(count);
    offset = fields.offset;
  }
  return lines;
}
