/**
 * The XML reader as it was before path states and saxes's attribute list (issue 10
 * translate-eu), kept unchanged as the reference `xml-reader.property.test.ts` holds the
 * reader to. Do not optimise it: its worth is that it is the old, simpler code.
 */
import { SaxesParser, type SaxesTagNS } from 'saxes';
import { DocumentInvalidError } from '../../src/errors.ts';
import { Utf8Pieces } from '../../src/parse/decode.ts';
import { TEXT, type IncrementalReader, type PathSegment, type RecordVisitor, type TreeObject, type TreeValue } from '../../src/parse/tree.ts';

export interface XmlLayout {
  namespace: string;
  root: string;
  record: string;
}

/**
 * XML 1.0 itself refuses C0 controls but lets DEL and C1 controls through (also as
 * character references); FORMATS.md makes any control character in XML a fault of the
 * document, so these are refused here.
 */
function hasXmlControl(text: string): boolean {
  // A loop, not a regular expression: it runs for every text and attribute, most of them short.
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x7f && c <= 0x9f) return true;
  }
  return false;
}

/** Deep enough for every ICD (root, record, a group, an event), shallow enough to refuse abuse. */
const MAX_DEPTH = 16;

interface Frame {
  name: string;
  /** Attributes (`@name`) and children, filled as they arrive; made only when there are some (most elements are leaves). */
  node: TreeObject | undefined;
  hasAttributes: boolean;
  hasChildren: boolean;
  text: string;
}

/** The XML declaration is at the very start; this much text is gathered before it is checked. */
const DECLARATION_SPAN = 256;

/** An XML reader fed the document in pieces (see IncrementalReader). */
export function referenceXmlReader(layout: XmlLayout, visit: RecordVisitor): IncrementalReader {
  const parser = new SaxesParser({ xmlns: true, position: true });
  const utf8 = new Utf8Pieces(() => parser.line);
  let recordCount = 0;
  let envelope: TreeObject | undefined;
  /**
   * The open elements: frames[0, depth). Frames are reused by depth (nothing a frame holds
   * outlives its element), so that the millions of elements of a large document allocate
   * none.
   */
  const frames: Frame[] = [];
  let depth = 0;
  let fault: DocumentInvalidError | undefined;
  const where = () => `${parser.line}:${parser.column}`;
  const refuse = (message: string) => {
    fault ??= new DocumentInvalidError(message, where());
    throw fault;
  };
  let recordLine = 0;
  /** Text held until the declaration can be checked; undefined once it was. */
  let opening: string | undefined = '';

  /**
   * Element names seen so far, each the one string that stands for every later element of
   * that name. saxes makes a new string for each element; used as a member name it must
   * be looked up in V8's table of names, twice per element. The names of a document are
   * few, and comparing with them is cheaper than that look-up.
   */
  const names: string[] = [];
  const known = (name: string): string => {
    for (let i = 0; i < names.length; i++) if (names[i] === name) return names[i]!;
    // A document of ever new names (abuse) stops being remembered, not read.
    if (names.length < 64) names.push(name);
    return name;
  };

  parser.on('doctype', () => refuse('a DOCTYPE is not allowed'));
  parser.on('processinginstruction', (pi) => refuse(`processing instruction <?${pi.target}?> is not allowed`));
  parser.on('opentag', (tag: SaxesTagNS) => {
    if (depth >= MAX_DEPTH) refuse(`elements are nested more than ${MAX_DEPTH} deep`);
    if (depth === 0) {
      if (tag.local !== layout.root || tag.uri !== layout.namespace) refuse(`the root element must be ${layout.root} in namespace ${layout.namespace}, not ${tag.local} in ${tag.uri || 'no namespace'}`);
    } else if (depth === 1) {
      if (tag.local !== layout.record || tag.uri !== layout.namespace) refuse(`unknown element ${tag.local} in ${layout.root}: only ${layout.record} elements may appear there`);
      recordLine = parser.line;
    }
    if (depth > 0) frames[depth - 1]!.hasChildren = true;
    const node = attributesOf(tag);
    if (node === CONTROL) refuse('a control character is not allowed in XML');
    const name = tag.uri === layout.namespace ? known(tag.local) : foreignName(tag);
    const frame = frames[depth];
    if (frame === undefined) frames.push({ name, node, hasAttributes: node !== undefined, hasChildren: false, text: '' });
    else {
      frame.name = name;
      frame.node = node;
      frame.hasAttributes = node !== undefined;
      frame.hasChildren = false;
      frame.text = '';
    }
    depth++;
  });
  parser.on('text', (t) => append(t));
  parser.on('cdata', (t) => append(t));
  function append(t: string) {
    if (hasXmlControl(t)) refuse('a control character is not allowed in XML');
    if (depth > 0) frames[depth - 1]!.text += t;
    else if (t.trim() !== '') refuse('text outside the root element');
  }
  parser.on('closetag', () => {
    const frame = frames[--depth]!;
    if (depth === 0) {
      if (frame.text.trim() !== '') refuse(`${layout.root} has text of its own`);
      envelope = frame.node ?? {};
      return;
    }
    const value = finish(frame);
    // The reused frame must not keep the element's node or text alive.
    frame.node = undefined;
    frame.text = '';
    if (depth === 1) {
      visit({ node: value, line: recordLine }, recordCount++);
      return;
    }
    const parent = (frames[depth - 1]!.node ??= {});
    const existing = Object.hasOwn(parent, frame.name) ? parent[frame.name] : undefined;
    if (existing === undefined) {
      // An element named __proto__ must become a member (then refused as unknown), not a prototype.
      if (frame.name === '__proto__') Object.defineProperty(parent, frame.name, { value, enumerable: true, writable: true, configurable: true });
      else parent[frame.name] = value;
    } else if (Array.isArray(existing)) existing.push(value);
    else parent[frame.name] = [existing, value];
  });
  // No 'error' or 'xmldecl' handler: saxes throws its errors itself, and each handler
  // added to a parser beyond six turns it into a slow dictionary-mode object (measured:
  // five times slower), so the declaration is checked apart, before parsing.

  function parse(text: string, last = false): void {
    if (opening !== undefined) {
      opening += text;
      if (opening.length < DECLARATION_SPAN && !last) return;
      text = opening;
      opening = undefined;
      checkDeclaration(text);
    }
    try {
      parser.write(text);
    } catch (error) {
      if (error instanceof DocumentInvalidError) throw error;
      throw new DocumentInvalidError(`not well-formed XML: ${(error as Error).message.replace(/^\d+:\d+: /, '')}`, where());
    }
  }

  return {
    write: (chunk) => parse(utf8.decode(chunk)),
    end() {
      parse(utf8.end(), true);
      try {
        parser.close();
      } catch (error) {
        if (error instanceof DocumentInvalidError) throw error;
        throw new DocumentInvalidError(`not well-formed XML: ${(error as Error).message.replace(/^\d+:\d+: /, '')}`, where());
      }
      if (!envelope) throw new DocumentInvalidError('the document has no root element', where());
      const recordPath = (index: number) => `/${layout.root}/${layout.record}[${index + 1}]`;
      return {
        envelope,
        recordCount,
        textual: true,
        envelopePointer: (path) => `/${layout.root}${xpath(path)}`,
        recordPointer: (index, path) => `${recordPath(index)}${xpath(path)}`,
      };
    },
  };
}

/**
 * The name in the tree of an element outside the ICD namespace (always unknown): XPath
 * 3.0's `Q{uri}local`. One in the namespace is its local name.
 */
function foreignName(tag: SaxesTagNS): string {
  return `Q{${tag.uri}}${tag.local}`;
}

/** The XML declaration, if any, must say version 1.0 and (if it names one) UTF-8. */
function checkDeclaration(text: string): void {
  const declaration = /^<\?xml\s[^>]*\?>/.exec(text)?.[0];
  if (declaration === undefined) return;
  const version = /\bversion\s*=\s*["']([^"']*)["']/.exec(declaration)?.[1];
  if (version !== undefined && version !== '1.0') throw new DocumentInvalidError(`the XML version must be 1.0, not ${version}`, '1:1');
  const encoding = /\bencoding\s*=\s*["']([^"']*)["']/.exec(declaration)?.[1];
  if (encoding !== undefined && encoding.toLowerCase() !== 'utf-8') {
    throw new DocumentInvalidError(`the encoding must be UTF-8, not ${encoding}`, `1:${declaration.indexOf('encoding') + 1}`);
  }
}

/** Stands for the attributes of an element when one holds a control character. */
const CONTROL: TreeObject = Object.freeze({});

/** An element's attributes as `@name` members of a new node, undefined when it has none, or CONTROL. */
function attributesOf(tag: SaxesTagNS): TreeObject | undefined {
  let node: TreeObject | undefined;
  for (const key in tag.attributes) {
    const attribute = tag.attributes[key]!;
    // Namespace declarations are syntax, not data.
    if (attribute.prefix === 'xmlns' || (attribute.prefix === '' && attribute.local === 'xmlns')) continue;
    if (hasXmlControl(attribute.value)) return CONTROL;
    (node ??= {})[attribute.uri === '' ? `@${attribute.local}` : `@Q{${attribute.uri}}${attribute.local}`] = attribute.value;
  }
  return node;
}

/** A closed element as a tree value: plain text for a leaf without attributes. */
function finish(frame: Frame): TreeValue {
  if (!frame.hasChildren && !frame.hasAttributes) return frame.text;
  // White space between child elements is layout; any other text is content and kept.
  const node = (frame.node ??= {});
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
