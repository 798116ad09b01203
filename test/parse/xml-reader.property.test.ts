/**
 * The XML reader matches elements and attributes against the paths it has seen and takes
 * saxes's attribute list as saxes hands it over (issue 10 translate-eu). It must read
 * every document as the reader before it did (`xml-reader-reference.ts`): the same
 * records (members in the same order), lines, envelope and count, or the same fault at
 * the same place, however the document is cut into pieces.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DocumentInvalidError } from '../../src/errors.ts';
import type { IncrementalReader, RecordVisitor, TreeValue } from '../../src/parse/tree.ts';
import { xmlReader, type XmlLayout } from '../../src/parse/xml-reader.ts';
import { referenceXmlReader } from './xml-reader-reference.ts';

const ICD = 'urn:eu:taxud:mra:aeo:1';
const layout: XmlLayout = { namespace: ICD, root: 'AEOExchangeBatch', record: 'Operator' };

/** Everything a reader says of a document, in a form that keeps the order of members. */
function readWith(make: (layout: XmlLayout, visit: RecordVisitor) => IncrementalReader, bytes: Buffer, cuts: number[]): string {
  const seen: unknown[] = [];
  // controlFree is left out: the reference predates it (the second test below is what it rests on).
  const reader = make(layout, ({ controlFree: _, ...record }, index) => seen.push({ index, ...record }));
  try {
    let from = 0;
    for (const cut of [...cuts.filter((c) => c < bytes.length).sort((a, b) => a - b), bytes.length]) {
      reader.write(bytes.subarray(from, cut));
      from = cut;
    }
    const tree = reader.end();
    return JSON.stringify({ seen, envelope: tree.envelope, count: tree.recordCount, pointer: tree.recordPointer(0, ['a', 1, '#text']) });
  } catch (error) {
    if (!(error instanceof DocumentInvalidError)) throw error;
    return JSON.stringify({ seen, fault: error.message, place: error.issues[0]?.pointer });
  }
}

/** Mostly what real documents hold, now and then something odd or wrong. */
const mostly = <T>(common: readonly T[], rare: readonly T[]) => fc.oneof({ arbitrary: fc.constantFrom(...common), weight: 12 }, { arbitrary: fc.constantFrom(...rare), weight: 1 });

const name = mostly(['TIN', 'Name', 'Address', 'Street', 'LinkedMID', 'Status'], ['p:TIN', 'q:TIN', 'q:Other', '__proto__', 'Operator']);
const attributeName = mostly(['scheme', 'code', 'effectiveDate'], ['p:code', 'q:code', 'xmlns:q']);
const attributeValue = mostly(['EORI', 'VALID', '', ' a ', 'x&amp;y'], ['&#x9F;', 'urn:third', '\u0080', '&#x2;', '&#9;']);
const texts = mostly(['', 'x', 'DE123', ' ', '\n    ', 'Müller', '&amp;', '<![CDATA[a<b]]>', '<!-- c -->'], ['\u00a0', '\u3000', '&#x85;', '&#x7F;', '<![CDATA[]]>', '<![CDATA[ ]]>', '<?pi x?>', '&#xA0;', '\u0001', '&#1;', '\u007f', '<![CDATA[\u0085]]>', '\t', '&#9;', '&#xD;']);
const spaces = fc.constantFrom('', ' ', '\n  ', '\r\n', '\t');

const attributes = fc.uniqueArray(fc.tuple(attributeName, attributeValue), { selector: ([n]) => n, maxLength: 3 }).map((list) => list.map(([n, value]) => ` ${n}="${value}"`).join(''));

const { element } = fc.letrec<{ element: string; content: string }>((tie) => ({
  element: fc.tuple(name, attributes, tie('content'), fc.boolean()).map(([n, attrs, content, empty]) => (empty && content === '' ? `<${n}${attrs}/>` : `<${n}${attrs}>${content}</${n}>`)),
  content: fc.oneof({ depthSize: 'small' }, texts, fc.array(fc.oneof(texts, spaces, tie('element')), { maxLength: 5 }).map((parts) => parts.join(''))),
}));

const record = fc.tuple(attributes, fc.array(fc.oneof(element, spaces, texts), { maxLength: 8 }), spaces).map(([attrs, parts, space]) => `<Operator${attrs}>${parts.join('')}${space}</Operator>`);

const document = fc
  .tuple(fc.constantFrom('', '<?xml version="1.0" encoding="UTF-8"?>\n'), mostly([`xmlns="${ICD}" xmlns:p="${ICD}" xmlns:q="urn:other"`], [`xmlns:p="${ICD}"`, `xmlns="${ICD}"`]), attributes, fc.array(fc.tuple(spaces, record), { maxLength: 4 }), spaces, mostly(['', '\n'], ['x']))
  .map(([declaration, namespaces, attrs, records, space, tail]) => `${declaration}<AEOExchangeBatch ${namespaces}${attrs}>${records.map(([s, r]) => s + r).join('')}${space}</AEOExchangeBatch>${tail}`);

// Many records of one shape, as a real document has them, with an odd one among them.
const regular = fc.tuple(record, fc.nat({ max: 6 }), record, fc.nat({ max: 6 })).map(([a, n, b, m]) => `<AEOExchangeBatch xmlns="${ICD}" xmlns:p="${ICD}" xmlns:q="urn:other">${`\n  ${a}`.repeat(n)}\n  ${b}${`\n  ${a}`.repeat(m)}\n</AEOExchangeBatch>`);

describe('the XML reader', () => {
  it('reads every document as the reader before it did', () => {
    fc.assert(
      fc.property(fc.oneof(document, regular), fc.array(fc.nat({ max: 400 }), { maxLength: 3 }), (text, cuts) => {
        const bytes = Buffer.from(text);
        expect(readWith(xmlReader, bytes, cuts)).toBe(readWith(referenceXmlReader, bytes, cuts));
      }),
      { numRuns: 4_000 },
    );
  });

  // The record readers rely on it: they do not scan XML values for control characters again (read-document.ts).
  it('hands on no value with a control character but TAB, LF and CR, from any text or attribute', () => {
    const controls = (value: TreeValue): boolean => {
      if (typeof value === 'string') return [...value].some((c) => (c < ' ' && c !== '\t' && c !== '\n' && c !== '\r') || (c >= '\u007f' && c <= '\u009f'));
      if (typeof value !== 'object' || value === null) return false;
      // Member names are not values (a foreign element's name may hold anything its namespace's URI holds; it is refused as unknown).
      return Object.values(value).some(controls);
    };
    fc.assert(
      fc.property(fc.oneof(document, regular), (text) => {
        // Gathered, then judged: the reader would take a failed expectation inside the visitor for a fault of the XML.
        const handed: TreeValue[] = [];
        const reader = xmlReader(layout, ({ node }) => handed.push(node));
        try {
          reader.write(Buffer.from(text));
          handed.push(reader.end().envelope);
        } catch (error) {
          if (!(error instanceof DocumentInvalidError)) throw error;
        }
        for (const node of handed) expect(controls(node)).toBe(false);
      }),
      { numRuns: 4_000 },
    );
  });
});
