/**
 * XML to the syntax-neutral tree, streaming. saxes is a strict XML 1.0 + namespaces
 * tokenizer: it reads the bytes several times faster than fast-xml-parser builds its
 * whole tree (FIELD-NOTES.md), never turns text into numbers, decodes only the
 * predefined entities and character references, and reports DOCTYPEs and processing
 * instructions as events, which we refuse. Each record element becomes a small tree of
 * its own; no tree of the whole document is ever built.
 */
import { SaxesParser, type SaxesAttributeNS, type SaxesTagNS } from 'saxes';
import { DocumentInvalidError } from '../errors.ts';
import { Utf8Pieces } from './decode.ts';
import { TEXT, type IncrementalReader, type PathSegment, type RecordVisitor, type TreeObject, type TreeValue } from './tree.ts';

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
  /** What this element's path has seen before; undefined once a document has too many paths to remember. */
  path: PathState | undefined;
  /** Where among its path's known children the next child element is looked for first. */
  nextChild: number;
  /** Attributes (`@name`) and children, filled as they arrive; made only when there are some (most elements are leaves). */
  node: TreeObject | undefined;
  hasAttributes: boolean;
  hasChildren: boolean;
  /** The element's own text, in the pieces saxes gave it: the first, then any others. */
  text: string;
  moreText: string[];
  /** Whether every piece of the text is white space (String.prototype.trim's). */
  blank: boolean;
}

/**
 * One path of element names below the root (`Operator/TIN`), with the strings its
 * elements and attributes take in the tree. Elements of one path recur in every record
 * and nearly always in the same order; matching an element against the children its
 * parent's path has seen, starting after the last one matched, usually takes one string
 * comparison, where a look-up in every name seen took several, and every name or
 * attribute key made anew had to be looked up in V8's table of names to be stored.
 */
interface PathState {
  uri: string;
  local: string;
  /** The name in the tree: the local name, or `Q{uri}local` outside the ICD namespace. */
  name: string;
  children: PathState[];
  /** Attributes met on elements of this path, in the order last met, with their keys in the tree. */
  attributes: { uri: string; local: string; key: string }[];
}

/** Paths remembered per document: an ICD has a few dozen; a document of ever new names (abuse) stops being remembered, not read. */
const MAX_PATHS = 256;

/** The parts of saxes 6.0.0 (pinned) read here that its types keep private. */
interface SaxesInternals {
  /** The attributes of the tag being opened, in document order, as `processAttribs` takes them. */
  attribList: SaxesAttributeNS[];
  processAttribs: () => void;
}

/** The XML declaration is at the very start; this much text is gathered before it is checked. */
const DECLARATION_SPAN = 256;

/** An XML reader fed the document in pieces (see IncrementalReader). */
export function xmlReader(layout: XmlLayout, visit: RecordVisitor): IncrementalReader {
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

  let paths = 0;
  const newPath = (uri: string, local: string, name: string): PathState | undefined => {
    if (paths >= MAX_PATHS) return undefined;
    paths++;
    return { uri, local, name, children: [], attributes: [] };
  };
  /** The state of a child element `tag` of `parent`, made on its first sighting. */
  const childPath = (parent: Frame, tag: SaxesTagNS): PathState | undefined => {
    const state = parent.path;
    if (state === undefined) return undefined;
    const { children } = state;
    const count = children.length;
    for (let k = 0, i = parent.nextChild; k < count; k++, i++) {
      if (i >= count) i = 0;
      const child = children[i]!;
      // The URI is nearly always the very string of the last element (saxes resolves each prefix to one), so it is compared first.
      if (child.uri === tag.uri && child.local === tag.local) {
        parent.nextChild = i + 1;
        return child;
      }
    }
    const child = newPath(tag.uri, tag.local, nameOf(tag));
    if (child !== undefined) {
      children.push(child);
      parent.nextChild = children.length;
    }
    return child;
  };
  const nameOf = (tag: SaxesTagNS): string => (tag.uri === layout.namespace ? tag.local : foreignName(tag));
  const rootPath = newPath(layout.namespace, layout.root, layout.root);

  /**
   * The attribute list saxes builds for each tag, taken as it is handed over: reading the
   * tag's `attributes` instead means a for-in over an Object.create(null) dictionary per
   * element, with or without attributes (issue 10 translate-eu). Should saxes ever stop
   * calling `processAttribs` with its list, `attribList` stays undefined and the
   * attributes are read from the tag as before.
   */
  const internals = parser as unknown as SaxesInternals;
  let attribList: SaxesAttributeNS[] | undefined;
  const processAttribs = internals.processAttribs;
  internals.processAttribs = function (this: SaxesInternals) {
    attribList = this.attribList;
    processAttribs.call(this);
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
    let path: PathState | undefined;
    if (depth > 0) {
      const parent = frames[depth - 1]!;
      parent.hasChildren = true;
      path = childPath(parent, tag);
    } else path = tag.uri === layout.namespace && tag.local === layout.root ? rootPath : undefined;
    const list = attribList;
    attribList = undefined;
    const node = list === undefined ? attributesOf(tag) : listedAttributes(list, path);
    if (node === CONTROL) refuse('a control character is not allowed in XML');
    const name = path === undefined ? nameOf(tag) : path.name;
    const frame = frames[depth];
    if (frame === undefined) frames.push({ name, path, nextChild: 0, node, hasAttributes: node !== undefined, hasChildren: false, text: '', moreText: [], blank: true });
    else {
      frame.name = name;
      frame.path = path;
      frame.nextChild = 0;
      frame.node = node;
      frame.hasAttributes = node !== undefined;
      frame.hasChildren = false;
      frame.text = '';
      frame.blank = true;
    }
    depth++;
  });
  parser.on('text', (t) => append(t));
  parser.on('cdata', (t) => append(t));
  function append(t: string) {
    // White space holds no control character (none is white space to trim()): half the pieces are spared the scan.
    const blank = isBlank(t);
    if (!blank && hasXmlControl(t)) refuse('a control character is not allowed in XML');
    if (depth > 0) {
      const frame = frames[depth - 1]!;
      if (!blank) frame.blank = false;
      // The root's own text is only ever refused, never kept.
      if (depth === 1) return;
      // Pieces are joined only when the text is needed whole: most are the white space between child elements.
      if (frame.text === '') frame.text = t;
      else frame.moreText.push(t);
    } else if (!blank) refuse('text outside the root element');
  }
  parser.on('closetag', () => {
    const frame = frames[--depth]!;
    if (depth === 0) {
      if (!frame.blank) refuse(`${layout.root} has text of its own`);
      envelope = frame.node ?? {};
      return;
    }
    const value = finish(frame);
    // The reused frame must not keep the element's node or text alive.
    frame.node = undefined;
    frame.text = '';
    if (frame.moreText.length !== 0) frame.moreText.length = 0;
    if (depth === 1) {
      // Every control character is a fault of the document here (hasXmlControl; saxes refuses C0).
      visit({ node: value, line: recordLine, controlFree: true }, recordCount++);
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

/**
 * `attributesOf` from saxes's list of the tag's attributes, each key taken from the
 * attributes the element's path has met (`path`, when there is one) rather than made anew.
 */
function listedAttributes(list: readonly SaxesAttributeNS[], path: PathState | undefined): TreeObject | undefined {
  let node: TreeObject | undefined;
  for (let k = 0; k < list.length; k++) {
    const attribute = list[k]!;
    // Namespace declarations are syntax, not data.
    if (attribute.prefix === 'xmlns' || (attribute.prefix === '' && attribute.local === 'xmlns')) continue;
    if (hasXmlControl(attribute.value)) return CONTROL;
    (node ??= {})[path === undefined ? attributeKey(attribute) : knownAttributeKey(path, k, attribute)] = attribute.value;
  }
  return node;
}

function attributeKey(attribute: SaxesAttributeNS): string {
  return attribute.uri === '' ? `@${attribute.local}` : `@Q{${attribute.uri}}${attribute.local}`;
}

/** Attribute keys a path remembers, beyond which new ones are made each time. */
const MAX_PATH_ATTRIBUTES = 16;

/** The key of the `k`th attribute of an element of `path`: the one it had there last time, usually. */
function knownAttributeKey(path: PathState, k: number, attribute: SaxesAttributeNS): string {
  const known = path.attributes;
  const at = known[k];
  if (at !== undefined && at.local === attribute.local && at.uri === attribute.uri) return at.key;
  for (let i = 0; i < known.length; i++) {
    const other = known[i]!;
    if (other.local === attribute.local && other.uri === attribute.uri) return other.key;
  }
  const key = attributeKey(attribute);
  if (known.length < MAX_PATH_ATTRIBUTES) known.push({ uri: attribute.uri, local: attribute.local, key });
  return key;
}

/** Whether `text` is empty or all white space, as `text.trim() === ''` says, without making a string. */
function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d) continue;
    if (c > 0x20 && c < 0x7f) return false;
    // Other white space (no-break space, ideographic space, …) is rare: trim() judges the rest.
    return text.slice(i).trim() === '';
  }
  return true;
}

/** The text of an element, its pieces joined. */
function textOf(frame: Frame): string {
  const { moreText } = frame;
  if (moreText.length === 0) return frame.text;
  let text = frame.text;
  for (let i = 0; i < moreText.length; i++) text += moreText[i]!;
  return text;
}

/** A closed element as a tree value: plain text for a leaf without attributes. */
function finish(frame: Frame): TreeValue {
  if (!frame.hasChildren && !frame.hasAttributes) return textOf(frame);
  // White space between child elements is layout; any other text is content and kept.
  const node = (frame.node ??= {});
  if (frame.hasChildren ? !frame.blank : frame.text !== '') node[TEXT] = textOf(frame);
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
