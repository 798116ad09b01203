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

  /** Where the content of the field `pass` last went past starts and ends: text[from, to), its `""` still doubled. */
  from = 0;
  to = 0;

  /** Moves past the next field, setting `from`, `to` and `doubled`. */
  pass(): void {
    const { text, at } = this;
    if (text.charCodeAt(at) === QUOTE) {
      const close = this.closingQuote(at);
      this.from = at + 1;
      this.to = close;
      this.passTerminator(close + 1);
      return;
    }
    const end = this.unquotedEnd(at);
    this.doubled = false;
    this.from = at;
    this.to = end;
    this.passTerminator(end);
  }

  /** The next field's text, unquoted; the cursor moves past it. */
  next(): string {
    this.pass();
    const raw = this.text.slice(this.from, this.to);
    return this.doubled ? raw.replaceAll('""', '"') : raw;
  }

  /** Whether the quoted field `closingQuote` last read, and so the field `pass` went past, has a `""` in it. */
  get hasDoubledQuote(): boolean {
    return this.doubled;
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

/**
 * Every field of scanned CSV text, found in one pass and then read as often as needed:
 * the structure of the document is checked on the lines' kinds and field counts before
 * any record is read, and the records are then read from the bounds found here, without
 * looking for their commas and quotes again. A final CRLF ends the last line, it does not
 * start an empty one.
 */
export class CsvTable {
  /** Per field, where its content starts and ends; the end negated when `""` inside is to be undone. Typed: nothing here for the collector to trace. */
  private bounds = new Int32Array(1024);
  private fields = 0;
  /** The index of each line's first field, and one past the last line's last field. */
  private readonly firstFields: number[] = [];
  /** Each line's first field (its kind). */
  readonly kinds: string[] = [];
  /** The field `next` reads. */
  private cursor = 0;

  constructor(private readonly text: string) {
    const scan = new CsvFields(text);
    let offset = 0;
    while (offset < text.length) {
      scan.lineAt(offset);
      this.firstFields.push(this.fields);
      do {
        scan.pass();
        this.add(scan.from, scan.hasDoubledQuote ? -scan.to : scan.to);
      } while (!scan.lineEnded);
      this.kinds.push(this.field(this.firstFields[this.firstFields.length - 1]!));
      offset = scan.offset;
    }
    this.firstFields.push(this.fields);
  }

  get lineCount(): number {
    return this.firstFields.length - 1;
  }

  fieldCount(line: number): number {
    return this.firstFields[line + 1]! - this.firstFields[line]!;
  }

  /** The next `next` reads the first field of `line`. */
  lineAt(line: number): void {
    this.cursor = this.firstFields[line]!;
  }

  /** The next field's text, unquoted. */
  next(): string {
    return this.field(this.cursor++);
  }

  /** Moves past the next field without making its text. */
  skip(): void {
    this.cursor++;
  }

  private field(index: number): string {
    const from = this.bounds[2 * index]!;
    const to = this.bounds[2 * index + 1]!;
    return to < 0 ? this.text.slice(from, -to).replaceAll('""', '"') : this.text.slice(from, to);
  }

  private add(from: number, to: number): void {
    if (2 * this.fields + 2 > this.bounds.length) {
      const grown = new Int32Array(this.bounds.length * 2);
      grown.set(this.bounds);
      this.bounds = grown;
    }
    this.bounds[2 * this.fields] = from;
    this.bounds[2 * this.fields + 1] = to;
    this.fields++;
  }
}
