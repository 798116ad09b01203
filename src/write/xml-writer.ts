/**
 * The syntax-neutral tree to XML. Written by hand rather than with fast-xml-parser's
 * builder: the ICDs need a fixed element order, one default namespace and exact
 * escaping, which is a page of code, and a writer that emits strings record by record
 * never holds a second copy of the document as a tree.
 */
import { TEXT, type TreeObject, type TreeValue } from '../parse/tree.ts';
import { writeWhole, type SyntaxWriter } from './syntax-writer.ts';

// One test before any replace: almost no text needs escaping, and a test allocates nothing.
const textNeedsEscape = /[&<>\r]/;
const attributeNeedsEscape = /[&<>\r"\t\n]/;

/** Text as an element's content: the few characters XML reserves there, and CR (kept through a reader's line-end normalization). */
export const escapeText = (s: string) => (textNeedsEscape.test(s) ? s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('\r', '&#13;') : s);
/** Text as an attribute's value: also quotes, tabs and line ends, which a reader would otherwise normalize. */
export const escapeAttribute = (s: string) =>
  attributeNeedsEscape.test(s)
    ? s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('\r', '&#13;').replaceAll('"', '&quot;').replaceAll('\t', '&#9;').replaceAll('\n', '&#10;')
    : s;

/** The indent one level deeper, made once per depth rather than once per element. */
const deeper: string[] = [];
const indentBelow = (indent: string): string => (deeper[indent.length] ??= `${indent}  `);

/**
 * One element, with its attributes (`@name`), text (`#text`) and children, at an indent,
 * pushed onto `out`: a leaf as one template, which measured faster to join than its
 * seven pieces pushed one by one.
 */
function element(name: string, value: TreeValue, indent: string, out: string[]): void {
  if (Array.isArray(value)) {
    for (const item of value) element(name, item, indent, out);
    return;
  }
  if (typeof value !== 'object' || value === null) {
    out.push(`${indent}<${name}>${escapeText(String(value))}</${name}>\n`);
    return;
  }
  // Attributes in the tree's member order; children after them, in theirs (the ICDs' fixed orders are built into the tree).
  let attributes = '';
  let children = false;
  for (const key in value) {
    const v = value[key]!;
    if (key.charCodeAt(0) === 64 /* @ */) attributes += ` ${key.slice(1)}="${escapeAttribute(String(v))}"`;
    else if (key !== TEXT && v !== null) children = true;
  }
  if (children) {
    out.push(`${indent}<${name}${attributes}>\n`);
    const below = indentBelow(indent);
    for (const key in value) {
      const v = value[key]!;
      if (key.charCodeAt(0) !== 64 && key !== TEXT && v !== null) element(key, v, below, out);
    }
    out.push(`${indent}</${name}>\n`);
    return;
  }
  const text = value[TEXT];
  out.push(text === undefined || text === null ? `${indent}<${name}${attributes}/>\n` : `${indent}<${name}${attributes}>${escapeText(String(text))}</${name}>\n`);
}

/** XML, record by record: the root's start tag carries the envelope as attributes. */
export function xmlWriter(layout: { namespace: string; root: string; record: string }): SyntaxWriter {
  const namespace = escapeAttribute(layout.namespace);
  return {
    record: (node, _index, out) => element(layout.record, node, '  ', out),
    separator: () => '',
    text(node) {
      const out: string[] = [];
      element(layout.record, node, '  ', out);
      return out.join('');
    },
    head(envelope: TreeObject) {
      // The envelope of an XML format lives in the root's attributes.
      let attributes = '';
      for (const key of Object.keys(envelope)) attributes += ` ${key.replace(/^@/, '')}="${escapeAttribute(String(envelope[key]))}"`;
      return `<?xml version="1.0" encoding="UTF-8"?>\n<${layout.root} xmlns="${namespace}"${attributes}>\n`;
    },
    tail: () => `</${layout.root}>\n`,
  };
}

/** A whole document: declaration, root with the envelope's attributes, then the records. */
export function writeXml(layout: { namespace: string; root: string; record: string }, envelope: TreeObject, records: readonly TreeValue[]): string {
  return writeWhole(xmlWriter(layout), envelope, records);
}
