/**
 * The syntax-neutral tree to XML. Written by hand rather than with fast-xml-parser's
 * builder: the ICDs need a fixed element order, one default namespace and exact
 * escaping, which is a page of code, and a writer that emits strings record by record
 * never holds a second copy of the document as a tree.
 */
import { isObject, TEXT, type TreeObject, type TreeValue } from '../parse/tree.ts';

const escapeText = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('\r', '&#13;');
const escapeAttribute = (s: string) => escapeText(s).replaceAll('"', '&quot;').replaceAll('\t', '&#9;').replaceAll('\n', '&#10;');

/** One element, with its attributes (`@name`), text (`#text`) and children, at an indent. */
function element(name: string, value: TreeValue, indent: string): string {
  if (Array.isArray(value)) return value.map((item) => element(name, item, indent)).join('');
  if (!isObject(value)) return `${indent}<${name}>${escapeText(String(value))}</${name}>\n`;
  let attributes = '';
  const children: [string, TreeValue][] = [];
  for (const [key, v] of Object.entries(value)) {
    if (key.startsWith('@')) attributes += ` ${key.slice(1)}="${escapeAttribute(String(v))}"`;
    else if (key !== TEXT && v !== null) children.push([key, v]);
  }
  const text = value[TEXT];
  if (children.length === 0) {
    return text === undefined || text === null ? `${indent}<${name}${attributes}/>\n` : `${indent}<${name}${attributes}>${escapeText(String(text))}</${name}>\n`;
  }
  const inner = children.map(([key, v]) => element(key, v, `${indent}  `)).join('');
  return `${indent}<${name}${attributes}>\n${inner}${indent}</${name}>\n`;
}

/** A whole document: declaration, root with the envelope's attributes, then the records. */
export function writeXml(layout: { namespace: string; root: string; record: string }, envelope: TreeObject, records: readonly TreeValue[]): string {
  // The envelope of an XML format lives in the root's attributes.
  const attributes = Object.entries(envelope)
    .map(([key, v]) => ` ${key.replace(/^@/, '')}="${escapeAttribute(String(v))}"`)
    .join('');
  const body = records.map((r) => element(layout.record, r, '  ')).join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${layout.root} xmlns="${escapeAttribute(layout.namespace)}"${attributes}>\n${body}</${layout.root}>\n`;
}
