/**
 * XML to the syntax-neutral tree, streaming. saxes is a strict XML 1.0 + namespaces
 * tokenizer: it reads the bytes several times faster than fast-xml-parser builds its
 * whole tree (FIELD-NOTES.md), never turns text into numbers, decodes only the
 * predefined entities and character references, and reports DOCTYPEs and processing
 * instructions as events, which we refuse. Each record element becomes a small tree of
 * its own; no tree of the whole document is ever built.
 */
import { SaxesParser, type SaxesTagNS } from 'saxes';
import { DocumentInvalidError } from '../errors.ts';
import { decodeUtf8 } from './decode.ts';
import { TEXT, type PathSegment, type RecordNode, type SyntaxTree, type TreeObject, type TreeValue } from './tree.ts';

export interface XmlLayout {
  namespace: string;
  root: string;
  record: string;
}

/** Deep enough for every ICD (root, record, a group, an event), shallow enough to refuse abuse. */
const MAX_DEPTH = 16;

interface Frame {
  name: string;
  attributes: TreeObject;
  children: TreeObject;
  text: string;
  hasChildren: boolean;
}

/** Reads an XML document laid out as root → record elements. */
export function readXml(input: Uint8Array | string, layout: XmlLayout): SyntaxTree {
  const text = decodeUtf8(input);
  const parser = new SaxesParser({ xmlns: true, position: true });
  const records: RecordNode[] = [];
  let envelope: TreeObject | undefined;
  const stack: Frame[] = [];
  let fault: DocumentInvalidError | undefined;
  const where = () => `${parser.line}:${parser.column}`;
  const refuse = (message: string) => {
    fault ??= new DocumentInvalidError(message, where());
    throw fault;
  };
  let recordLine = 0;

  parser.on('xmldecl', (decl) => {
    if (decl.encoding !== undefined && decl.encoding.toLowerCase() !== 'utf-8') refuse(`the encoding must be UTF-8, not ${decl.encoding}`);
  });
  parser.on('doctype', () => refuse('a DOCTYPE is not allowed'));
  parser.on('processinginstruction', (pi) => refuse(`processing instruction <?${pi.target}?> is not allowed`));
  parser.on('opentag', (tag: SaxesTagNS) => {
    const depth = stack.length;
    if (depth >= MAX_DEPTH) refuse(`elements are nested more than ${MAX_DEPTH} deep`);
    if (depth === 0) {
      if (tag.local !== layout.root || tag.uri !== layout.namespace) refuse(`the root element must be ${layout.root} in namespace ${layout.namespace}, not ${tag.local} in ${tag.uri || 'no namespace'}`);
    } else if (depth === 1) {
      if (tag.local !== layout.record || tag.uri !== layout.namespace) refuse(`unknown element ${tag.local} in ${layout.root}: only ${layout.record} elements may appear there`);
      recordLine = parser.line;
    }
    const parent = stack[stack.length - 1];
    if (parent) parent.hasChildren = true;
    stack.push({ name: elementName(tag, layout.namespace), attributes: attributesOf(tag), children: {}, text: '', hasChildren: false });
  });
  parser.on('text', (t) => append(t));
  parser.on('cdata', (t) => append(t));
  function append(t: string) {
    const top = stack[stack.length - 1];
    if (top) top.text += t;
    else if (t.trim() !== '') refuse('text outside the root element');
  }
  parser.on('closetag', () => {
    const frame = stack.pop()!;
    const depth = stack.length;
    if (depth === 0) {
      if (frame.text.trim() !== '') refuse(`${layout.root} has text of its own`);
      envelope = frame.attributes;
      return;
    }
    const value = finish(frame);
    if (depth === 1) {
      records.push({ node: value, line: recordLine });
      return;
    }
    const parent = stack[stack.length - 1]!;
    const existing = parent.children[frame.name];
    if (existing === undefined) parent.children[frame.name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else parent.children[frame.name] = [existing, value];
  });
  parser.on('error', (error) => {
    fault ??= new DocumentInvalidError(`not well-formed XML: ${error.message.replace(/^\d+:\d+: /, '')}`, where());
    throw fault;
  });

  try {
    parser.write(text).close();
  } catch (error) {
    if (error instanceof DocumentInvalidError) throw error;
    throw new DocumentInvalidError(`not well-formed XML: ${(error as Error).message}`, where());
  }
  if (!envelope) throw new DocumentInvalidError('the document has no root element', where());

  const recordPath = (index: number) => `/${layout.root}/${layout.record}[${index + 1}]`;
  return {
    envelope,
    records,
    textual: true,
    envelopePointer: (path) => `/${layout.root}${xpath(path)}`,
    recordPointer: (index, path) => `${recordPath(index)}${xpath(path)}`,
  };
}

/** An element's name in the tree: its local name in the ICD namespace, else `{uri}local` (always unknown). */
function elementName(tag: SaxesTagNS, namespace: string): string {
  return tag.uri === namespace ? tag.local : `{${tag.uri}}${tag.local}`;
}

function attributesOf(tag: SaxesTagNS): TreeObject {
  const out: TreeObject = {};
  for (const attribute of Object.values(tag.attributes)) {
    // Namespace declarations are syntax, not data.
    if (attribute.prefix === 'xmlns' || (attribute.prefix === '' && attribute.local === 'xmlns')) continue;
    const name = attribute.uri === '' ? attribute.local : `{${attribute.uri}}${attribute.local}`;
    out[`@${name}`] = attribute.value;
  }
  return out;
}

/** A closed element as a tree value: plain text for a leaf without attributes. */
function finish(frame: Frame): TreeValue {
  const hasAttributes = Object.keys(frame.attributes).length > 0;
  if (!frame.hasChildren && !hasAttributes) return frame.text;
  const node: TreeObject = { ...frame.attributes, ...frame.children };
  // White space between child elements is layout; any other text is content and kept.
  if (frame.hasChildren ? frame.text.trim() !== '' : frame.text !== '') node[TEXT] = frame.text;
  return node;
}

function xpath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment + 1}]`;
    else if (segment === TEXT) out += '/text()';
    else out += `/${segment}`;
  }
  return out;
}
