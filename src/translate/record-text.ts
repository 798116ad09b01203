/**
 * A canonical record straight to its text in one format, as one function generated per
 * format from its compiled fields: what `writeFields` and the syntax's writer give
 * together (write-record.ts, src/write/), without the tree between them. Planning an
 * outbound document writes every member this way (deliver/plan-document.ts), where
 * building and walking each record's tree cost more than JSON.stringify of the member.
 *
 * The generated function covers a record that writes cleanly; for anything else (a
 * required value missing, a value no code stands for, an optional flat group absent in
 * JSON) it returns undefined and the caller takes the tree's way, which says what is
 * wrong. A format whose fields place values in ways whose order or shape depends on more
 * than which values are present (two fields at one place, a list or object sharing its
 * place) gets no generated function at all: every record then takes the tree's way.
 *
 * `memberTextOf` goes one step further for outbound documents: the same code reads a
 * C-TPAT member, taking what the outbound rules set from their values, and checks the
 * mapping's rules itself, so that no partner record is made; it covers what
 * `outboundValuesOf` allows and leaves the rest to the partner record's way.
 * test/translate/record-text.property.test.ts holds each beside the way it replaces.
 */
import { TEXT } from '../parse/tree.ts';
import { csvField } from '../write/csv-writer.ts';
import { jsonValue } from '../write/json-writer.ts';
import { escapeAttribute, escapeText } from '../write/xml-writer.ts';
import type { Operator } from '../canonical/operator.ts';
import { dotted } from './canonical-path.ts';
import { compilePattern, type CompiledField } from './compile.ts';
import type { Format } from './format.ts';
import type { RecordRule } from './mapping-schema.ts';
import { oneByte, outboundValuesOf, type OutboundValues } from './outbound.ts';
import { valueTypes, type ValueType } from './value-types.ts';

/** A record's own text (no separator before it), or undefined when the tree's way must write it. */
export type RecordText = (record: unknown) => string | undefined;

type Syntax = 'xml' | 'json' | 'csv';

/** How a scalar's written value goes into the text where it is placed. */
type Encoding = 'xml-text' | 'xml-attribute' | 'json' | 'csv' | 'raw';

/** One place in the record's tree, in the order the tree's way would create it. */
interface Place {
  name: string;
  children: Map<string, Place>;
  /** The variable holding a scalar written here (encoded for this place), undefined when not placed. */
  scalar?: string;
  /** The variable saying an object field placed its object here (else, in JSON, null). */
  object?: string;
  /** The variable holding the list's text (XML: its items' elements; JSON: the array), undefined when not placed. */
  list?: string;
  /** Owned by one object or list field, or merged from a flat group: no other field may touch it. */
  owned: boolean;
  /** The fields that touched it, the first one deciding where it stands among its siblings. */
  touchers: CompiledField[];
}

const newPlace = (name: string): Place => ({ name, children: new Map(), owned: false, touchers: [] });

/** Why a format gets no generated function; caught in `recordTextOf`. */
class Unsupported extends Error {}

const literal = (value: string): string => JSON.stringify(value);

/** Keys a JS object orders before the others (integer-like), or that set its prototype: the tree's key order or shape would differ. */
const awkwardName = (name: string): boolean => /^(0|[1-9]\d*)$/.test(name) || name === '__proto__' || name === TEXT;

/**
 * Where fields read their values: a variable holding the value (the record, an object, a
 * list item), and, writing from the member, the canonical path of that value in the
 * partner record, so that a value an outbound rule sets is read from the rule instead.
 */
interface Source {
  variable: string;
  at: readonly string[] | undefined;
  /** An item of a list whose items outbound rules change: that list's index in `OutboundValues.lists`. */
  list?: number;
}

const startsWith = (path: readonly string[], prefix: readonly string[]): boolean => prefix.length <= path.length && prefix.every((segment, i) => segment === path[i]);

/** The generated code for one format: variables, statements, the helpers they call. */
class Generator {
  private count = 0;
  readonly types: ValueType[] = [];
  /** Values the generated code refers to (rules' value lists and patterns). */
  readonly constants: unknown[] = [];

  readonly outboundTargets: readonly (readonly string[])[] | undefined;

  /** `outbound`: writing from the member, where the outbound rules put their values (`v0`, `v1`, … in the code). */
  constructor(
    readonly syntax: Syntax,
    readonly textual: boolean,
    readonly outbound?: Pick<OutboundValues, 'targets' | 'lists'>,
  ) {
    this.outboundTargets = outbound?.targets;
  }

  /** The list of `OutboundValues.lists` whose items a list read at `path` under `source` holds, if any. */
  listAt(source: Source, path: readonly string[]): number | undefined {
    if (this.outbound === undefined || source.at === undefined) return undefined;
    const at = [...source.at, ...path];
    const i = this.outbound.lists.findIndex((l) => l.target.length === at.length && startsWith(at, l.target));
    return i >= 0 ? i : undefined;
  }

  constant(value: unknown): string {
    return `constants[${this.constants.push(value) - 1}]`;
  }

  /** Statements setting `target` to the value at `path` under `source`, as the partner record has it. */
  read(target: string, source: Source, path: readonly string[]): string {
    if (source.list !== undefined) return this.readItem(target, source, source.list, path);
    if (this.outboundTargets === undefined || source.at === undefined) return this.get(target, source.variable, path);
    const at = [...source.at, ...path];
    const rule = this.outboundTargets.findIndex((t) => startsWith(at, t));
    // A rule's value, or a value inside it; else the member's own.
    if (rule >= 0) return `${target} = v${rule};\n${this.get(target, target, at.slice(this.outboundTargets[rule]!.length))}`;
    if (this.outboundTargets.some((t) => startsWith(t, at))) throw new Unsupported(`${at.join('.')} holds what an outbound rule sets`);
    if (this.outbound!.lists.some((l) => startsWith(at, l.target) && at.length > l.target.length)) throw new Unsupported(`${at.join('.')} is inside a list whose items outbound rules change`);
    return this.get(target, 'member', at);
  }

  /** `read` in an item of a list whose items outbound rules change: an item rule's value (an item that is no object is left to the record's way). */
  private readItem(target: string, source: Source, list: number, path: readonly string[]): string {
    const rules = this.outbound!.lists[list]!.items;
    const rule = rules.findIndex((r) => startsWith(path, r.target));
    if (rule < 0) {
      if (rules.some((r) => startsWith(r.target, path))) throw new Unsupported(`${path.join('.')} holds what an item rule sets`);
      return this.get(target, source.variable, path);
    }
    const item = source.variable;
    const value = `${this.constant(rules[rule]!.value)}(member, ${item})`;
    // An item that is not an object: the record's way decides what the rules do to it (they fail on some).
    return `if (typeof ${item} !== 'object' || ${item} === null) return undefined;\n${target} = ${value};\n${this.get(target, target, path.slice(rules[rule]!.target.length))}`;
  }

  /**
   * Statements setting `target` to a value as present (not undefined or null) as the
   * partner record's object at `path` under `source`: an object holding a rule's target
   * is made by the rule when it sets a value (setAt makes the objects on the way).
   */
  readObject(target: string, source: Source, path: readonly string[]): string {
    if (source.list !== undefined) return this.read(target, source, path);
    if (this.outboundTargets === undefined || source.at === undefined) return this.get(target, source.variable, path);
    const at = [...source.at, ...path];
    const below = this.outboundTargets.flatMap((t, i) => (t.length > at.length && startsWith(t, at) ? [i] : []));
    if (below.length === 0) return this.read(target, source, path);
    return `${this.get(target, 'member', at)}if (${below.map((i) => `v${i} !== undefined`).join(' || ')}) ${target} = true;\n`;
  }

  /** What the fields of an object read at `path` under `source` read from. */
  inside(source: Source, variable: string, path: readonly string[]): Source {
    // Inside an item's object, item rules are not followed: readItem refused any on the way.
    return { variable, at: source.at === undefined ? undefined : [...source.at, ...path] };
  }

  variable(prefix: string): string {
    return `${prefix}${this.count++}`;
  }

  typeOf(field: CompiledField): string {
    let i = this.types.indexOf(field.type);
    if (i < 0) i = this.types.push(field.type) - 1;
    return `types[${i}]`;
  }

  /** Statements setting `target` to `getAt(source, path)`. */
  get(target: string, source: string, path: readonly string[]): string {
    let code = `${target} = ${source};\n`;
    for (const segment of path) code += `${target} = typeof ${target} === 'object' && ${target} !== null ? ${target}[${literal(segment)}] : undefined;\n`;
    return code;
  }

  encode(expression: string, encoding: Encoding): string {
    switch (encoding) {
      // Text syntaxes: the expression is text already.
      case 'xml-text':
        return `escapeText(${expression})`;
      case 'xml-attribute':
        return `escapeAttribute(${expression})`;
      case 'csv':
        return `csvField(${expression})`;
      case 'json':
        return `jsonValue(${expression})`;
      case 'raw':
        return expression;
    }
  }
}

/** `Generator.encode` applied now, to a text known when the code is made. */
function encodeNow(text: string, encoding: Encoding): string {
  switch (encoding) {
    case 'xml-text':
      return escapeText(text);
    case 'xml-attribute':
      return escapeAttribute(text);
    case 'csv':
      return csvField(text);
    case 'json':
      return jsonValue(text);
    case 'raw':
      return text;
  }
}

/** Where a scalar placed at this format path is written, and so how its value is encoded. */
function encodingAt(generator: Generator, path: readonly string[]): Encoding {
  if (generator.syntax === 'json') return 'json';
  if (generator.syntax === 'csv') return 'csv';
  return path[path.length - 1]?.startsWith('@') ? 'xml-attribute' : 'xml-text';
}

/**
 * The place at `path` under `root`, created in order as the tree's way would; each place
 * on the way records `field` as a toucher. Refuses what the tree's way would merge or
 * overwrite in ways this code does not follow.
 */
function placeOf(generator: Generator, root: Place, path: readonly string[], field: CompiledField): Place {
  let cur = root;
  for (const name of path) {
    if (awkwardName(name)) throw new Unsupported(`the name ${name}`);
    if (cur.owned && cur !== root) throw new Unsupported(`${cur.name} is owned by one field`);
    if (cur.list !== undefined || cur.object !== undefined) throw new Unsupported(`${cur.name} holds a list or an object`);
    if (cur.scalar !== undefined && generator.syntax !== 'xml') throw new Unsupported(`${cur.name} holds text and members`);
    if (cur.name.startsWith('@') && cur !== root) throw new Unsupported(`attribute ${cur.name} with members`);
    let next = cur.children.get(name);
    if (next === undefined) {
      next = newPlace(name);
      cur.children.set(name, next);
    } else if (next.owned) throw new Unsupported(`${name} is owned by one field`);
    next.touchers.push(field);
    cur = next;
  }
  return cur;
}

/** A field that always places something when the record is writable: the first toucher of a shared place must be one. */
const alwaysPlaced = (field: CompiledField): boolean => field.kind === 'scalar' && !field.optional;

/** Refuses a place several fields touch unless the first always places (else the place's position would move with what is present). */
function checkOrder(place: Place): void {
  for (const child of place.children.values()) {
    if (child.touchers.length > 1 && !alwaysPlaced(child.touchers[0]!)) throw new Unsupported(`${child.name}: first placed by an optional field`);
    checkOrder(child);
  }
}

/**
 * Statements that compute each of `fields` of `source` into variables, registering where
 * each is placed under `root`; `return undefined` where the tree's way would find a fault.
 * `declare` collects the variables to declare before the statements.
 */
function compileFields(generator: Generator, fields: readonly CompiledField[], source: Source, root: Place, declare: string[], indentDepth: number): string {
  let code = '';
  for (const field of fields) code += compileField(generator, field, source, root, declare, indentDepth);
  return code;
}

function compileScalarValue(generator: Generator, field: CompiledField, source: Source, slot: string, encoding: Encoding): string {
  const x = generator.variable('x');
  const write = generator.typeOf(field);
  // Not placed: in JSON an optional value absent is written as null; in text syntaxes it is left out.
  const absent = field.optional ? (generator.textual ? '' : `${slot} = ${encoding === 'raw' ? 'null' : "'null'"};`) : 'return undefined;';
  // Text is written as String(value): said so in the code, not called through the type.
  const isText = field.type === valueTypes.text;
  const written = (value: string) => (isText ? `String(${value})` : generator.textual ? `String(${write}.write(${value}))` : `${write}.write(${value})`);
  const placed = (value: string) => `${slot} = ${generator.encode(written(value), encoding)};`;
  // A code's text, encoded once here rather than for every record. Not as a literal: a literal is the string V8 keeps
  // for that text, which for a code named in the mapping file is held two bytes per character (outbound.ts oneByte).
  const codeOut = (code: string) => (isText ? generator.constant(oneByte(encodeNow(code, encoding))) : literal(code));
  const placedCode = (m: string) => (isText ? `${slot} = ${m};` : placed(m));
  if (field.codesOut === undefined) {
    return `{ let ${x};\n${generator.read(x, source, field.canonical)}if (${x} === undefined || ${x} === null) { ${absent} } else { ${placed(x)} } }\n`;
  }
  // The first code whose assignments all hold, as `firstHolding` tries them.
  const codes = field.codesOut;
  const m = generator.variable('m');
  let code = `{ let ${m};\n`;
  const paths = new Set(codes.flatMap(([, assignments]) => assignments.map(([path]) => path.join('.'))));
  if (paths.size === 1 && codes.every(([, assignments]) => assignments.length === 1)) {
    const path = codes[0]![1][0]![0];
    code += `let ${x};\n${generator.read(x, source, path)}switch (${x}) {\n`;
    const seen = new Set<string>();
    for (const [value, assignments] of codes) {
      const wanted = assignments[0]![1];
      if (seen.has(wanted)) continue;
      seen.add(wanted);
      code += `case ${literal(wanted)}: ${m} = ${codeOut(value)}; break;\n`;
    }
    code += '}\n';
  } else {
    for (const [value, assignments] of codes) {
      let test = '';
      for (const [path, wanted] of assignments) {
        const a = generator.variable('a');
        test += `let ${a};\n${generator.read(a, source, path)}if (${a} !== ${literal(wanted)}) break holds;\n`;
      }
      code += `if (${m} === undefined) holds: {\n${test}${m} = ${codeOut(value)};\n}\n`;
    }
  }
  let none = 'return undefined;';
  if (field.optional && codes[0] !== undefined) {
    const checks = codes[0][1].map(([path]) => {
      const a = generator.variable('a');
      return `let ${a};\n${generator.read(a, source, path)}if (${a} !== undefined) return undefined;\n`;
    });
    none = `${checks.join('')}${absent}`;
  }
  return `${code}if (${m} === undefined) { ${none} } else { ${placedCode(m)} } }\n`;
}

function compileField(generator: Generator, field: CompiledField, source: Source, root: Place, declare: string[], indentDepth: number): string {
  if (field.kind === 'const') return '';
  if (field.kind === 'scalar') {
    if (field.path.length === 0) throw new Unsupported('a scalar written as the text of the node it is in');
    const place = placeOf(generator, root, field.path, field);
    // XML alone writes text beside attributes (`TIN` and `TIN.@scheme`).
    if (place.scalar !== undefined || place.owned || (place.children.size > 0 && generator.syntax !== 'xml')) throw new Unsupported(`two values at ${place.name}`);
    const slot = generator.variable('s');
    declare.push(slot);
    place.scalar = slot;
    return compileScalarValue(generator, field, source, slot, encodingAt(generator, field.path));
  }
  if (field.kind === 'object') {
    const x = generator.variable('x');
    if (field.path.length === 0) {
      // A flat group: its members go on the node it is in. Absent and optional, the tree's way writes it as the node's text (JSON: null).
      const group = newPlace('');
      const inner = compileFields(generator, field.children ?? [], generator.inside(source, x, field.canonical), group, declare, indentDepth);
      checkOrder(group);
      for (const [name, child] of group.children) {
        if (root.children.has(name)) throw new Unsupported(`the flat group's ${name} is already placed`);
        child.owned = true;
        root.children.set(name, child);
      }
      const absent = field.optional && generator.textual ? '' : 'return undefined;';
      return `{ let ${x};\n${generator.readObject(x, source, field.canonical)}if (${x} === undefined || ${x} === null) { ${absent} } else {\n${inner}} }\n`;
    }
    const place = placeOf(generator, root, field.path, field);
    if (place.scalar !== undefined || place.children.size > 0 || place.touchers.length > 1) throw new Unsupported(`the object at ${place.name} shares its place`);
    const present = generator.variable('p');
    declare.push(`${present} = false`);
    const inner = compileFields(generator, field.children ?? [], generator.inside(source, x, field.canonical), place, declare, indentDepth + field.path.length);
    place.object = present;
    place.owned = true;
    const absent = field.optional ? '' : 'return undefined;';
    return `{ let ${x};\n${generator.readObject(x, source, field.canonical)}if (${x} === undefined || ${x} === null) { ${absent} } else {\n${present} = true;\n${inner}} }\n`;
  }
  // A list.
  if (field.path.length === 0) throw new Unsupported('a list without a place of its own');
  const place = placeOf(generator, root, field.path, field);
  if (place.scalar !== undefined || place.children.size > 0 || place.touchers.length > 1) throw new Unsupported(`the list at ${place.name} shares its place`);
  place.owned = true;
  const slot = generator.variable('l');
  declare.push(slot);
  place.list = slot;
  const items = generator.variable('items');
  const item = generator.variable('item');
  const i = generator.variable('i');
  const acc = generator.variable('acc');
  const children = field.children ?? [];
  let code = `{ let ${items};\n${generator.read(items, source, field.canonical)}if (!Array.isArray(${items})) ${items} = [];\n`;
  const list = generator.listAt(source, field.canonical);
  const itemSource: Source = list === undefined ? { variable: item, at: undefined } : { variable: item, at: undefined, list };

  if (field.split !== undefined) {
    // Each item's text, joined: only items that are one scalar of their own.
    const only = children.filter((c) => c.kind !== 'const');
    if (only.length !== 1 || only[0]!.kind !== 'scalar' || only[0]!.path.length !== 0) throw new Unsupported('a split list of other than text items');
    const value = generator.variable('v');
    code += `let ${acc} = '';\nfor (let ${i} = 0; ${i} < ${items}.length; ${i}++) {\nconst ${item} = ${items}[${i}];\nlet ${value};\n`;
    code += compileScalarValue(generator, only[0]!, itemSource, value, 'raw');
    // An item left out would be written as "[object Object]": the tree's way writes that.
    code += `if (${value} === undefined || ${value} === null) return undefined;\n${acc} += (${i} > 0 ? ${literal(field.split)} : '') + String(${value});\n}\n`;
    const encoded = generator.encode(acc, encodingAt(generator, field.path));
    code += generator.textual ? `if (${items}.length > 0) ${slot} = ${encoded};\n}\n` : `${slot} = ${items}.length > 0 ? ${encoded} : 'null';\n}\n`;
    return code;
  }

  // Each item as a node of its own, written where the list is.
  const itemPlace = newPlace(field.path[field.path.length - 1]!);
  const itemDeclare: string[] = [];
  const textOnly = children.filter((c) => c.kind !== 'const' && c.kind === 'scalar' && c.path.length === 0);
  let inner: string;
  let itemText: string;
  if (textOnly.length > 0) {
    if (textOnly.length > 1 || children.indexOf(textOnly[0]!) !== children.findIndex((c) => c.kind !== 'const')) throw new Unsupported('an item whose text is not its first field');
    const text = generator.variable('t');
    itemDeclare.push(text);
    inner = compileScalarValue(generator, textOnly[0]!, itemSource, text, generator.syntax === 'xml' ? 'xml-text' : generator.syntax === 'json' ? 'json' : 'csv');
    itemPlace.scalar = text;
    inner += compileFields(
      generator,
      children.filter((c) => c !== textOnly[0]),
      itemSource,
      itemPlace,
      itemDeclare,
      indentDepth + field.path.length,
    );
    if (generator.syntax === 'json' && itemPlace.children.size > 0) throw new Unsupported('a JSON item with text and members');
  } else {
    inner = compileFields(generator, children, itemSource, itemPlace, itemDeclare, indentDepth + field.path.length);
  }
  checkOrder(itemPlace);
  if (generator.syntax === 'xml') {
    itemText = emitXmlElement(itemPlace, itemPlace.name, indentOf(indentDepth + field.path.length), acc, true);
  } else if (generator.syntax === 'json') {
    itemText = `${acc} += (${i} > 0 ? ',' : '') + ${itemPlace.scalar ?? concat(jsonObject(itemPlace))};\n`;
  } else throw new Unsupported('a CSV list that is not split');
  code += `let ${acc} = ${generator.syntax === 'json' ? "'['" : "''"};\nfor (let ${i} = 0; ${i} < ${items}.length; ${i}++) {\nconst ${item} = ${items}[${i}];\n`;
  if (itemDeclare.length > 0) code += `let ${itemDeclare.join(', ')};\n`;
  code += `${inner}${itemText}}\n`;
  code += generator.textual ? `if (${items}.length > 0) ${slot} = ${acc};\n}\n` : `${slot} = ${acc} + ']';\n}\n`;
  return code;
}

/** The indent of an element `depth` levels below the record's (which is two spaces in). */
const indentOf = (depth: number): string => ' '.repeat(2 + 2 * depth);

/** An expression true when anything at or under `place` was placed (text syntaxes place no nulls). */
function presence(place: Place): string[] {
  const parts: string[] = [];
  if (place.scalar !== undefined) parts.push(`${place.scalar} !== undefined`);
  if (place.object !== undefined) parts.push(place.object);
  if (place.list !== undefined) parts.push(`${place.list} !== undefined`);
  for (const child of place.children.values()) parts.push(...presence(child));
  return parts;
}

const any = (parts: string[]): string => (parts.length === 0 ? 'false' : parts.join(' || '));

/** Code appended to a string: literal text as is, anything else as `{ code }`. */
type Piece = string | { code: string };

/** One concatenation, adjacent literal pieces joined first: fewer strings made per record, and fewer for the digest to flatten. */
function concat(pieces: readonly Piece[]): string {
  const merged: Piece[] = [];
  for (const piece of pieces) {
    const last = merged[merged.length - 1];
    if (typeof piece === 'string' && typeof last === 'string') merged[merged.length - 1] = last + piece;
    else if (piece !== '') merged.push(piece);
  }
  if (merged.length === 0) return "''";
  return merged.map((piece) => (typeof piece === 'string' ? literal(piece) : piece.code)).join(' + ');
}

/** Statements appending one element as xml-writer.ts `element` writes it (attributes, then child elements or else text). */
function emitXmlElement(place: Place, name: string, indent: string, out: string, always: boolean): string {
  if (place.list !== undefined) return `if (${place.list} !== undefined) ${out} += ${place.list};\n`;
  const attributes = [...place.children.values()].filter((c) => c.name.startsWith('@'));
  for (const attribute of attributes) if (attribute.scalar === undefined || attribute.children.size > 0) throw new Unsupported(`attribute ${attribute.name} holds other than text`);
  const elements = [...place.children.values()].filter((c) => !c.name.startsWith('@'));
  let code = '';
  const open: Piece[] = [`${indent}<${name}`];
  if (attributes.length > 0) {
    const a = `attributes_${out}_${indent.length}`;
    code += `let ${a} = '';\n`;
    for (const attribute of attributes) code += `if (${attribute.scalar} !== undefined) ${a} += ${concat([` ${attribute.name.slice(1)}="`, { code: attribute.scalar! }, '"'])};\n`;
    open.push({ code: a });
  }
  const branches: string[] = [];
  if (elements.length > 0) {
    const childCode = elements.map((child) => emitXmlElement(child, child.name, `${indent}  `, out, false)).join('');
    branches.push(`if (${any(elements.flatMap(presence))}) {\n${out} += ${concat([...open, '>\n'])};\n${childCode}${out} += ${concat([`${indent}</${name}>\n`])};\n}`);
  }
  if (place.scalar !== undefined) branches.push(`if (${place.scalar} !== undefined) ${out} += ${concat([...open, '>', { code: place.scalar }, `</${name}>\n`])};`);
  const empty = `${out} += ${concat([...open, '/>\n'])};`;
  // A leaf present only with its text needs no other branch.
  const onlyText = elements.length === 0 && attributes.length === 0 && place.object === undefined && place.scalar !== undefined;
  if (onlyText && !always) return `${branches[0]}\n`;
  code += branches.length > 0 ? `${branches.join(' else ')} else ${empty}\n` : `${empty}\n`;
  return always ? `{\n${code}}\n` : `if (${any(presence(place))}) {\n${code}}\n`;
}

/** The JSON text of `place`'s members as pieces, as JSON.stringify of the tree writes them. */
function jsonObject(place: Place): Piece[] {
  const pieces: Piece[] = ['{'];
  [...place.children.values()].forEach((child, i) => pieces.push(`${i > 0 ? ',' : ''}${JSON.stringify(child.name)}:`, ...jsonOf(child)));
  pieces.push('}');
  return pieces;
}

function jsonOf(place: Place): Piece[] {
  if (place.scalar !== undefined) return [{ code: place.scalar }];
  if (place.list !== undefined) return [{ code: place.list }];
  if (place.object !== undefined) return [{ code: `(${place.object} ? ${concat(jsonObject(place))} : 'null')` }];
  return jsonObject(place);
}

/** CSV's record line as csv-writer.ts writes it: the kind, then each column's text. */
function csvLine(root: Place, layout: { kind: string; fields: readonly string[] }): string {
  const pieces: Piece[] = [csvField(layout.kind)];
  for (const name of layout.fields) {
    const place = root.children.get(name);
    pieces.push(',');
    if (place === undefined) continue;
    if (place.children.size > 0 || place.object !== undefined) throw new Unsupported(`the column ${name} holds members`);
    const slot = place.scalar ?? place.list!;
    pieces.push({ code: `(${slot} === undefined ? '' : ${slot})` });
  }
  pieces.push('\r\n');
  return concat(pieces);
}

/** The checks of the mapping's `rules` (record-rules.ts `compileRule`), as statements returning undefined where one is broken: the tree's way then reports it. */
function compileRules(generator: Generator, rules: readonly RecordRule[], source: Source): string {
  let code = '';
  rules.forEach((rule, n) => {
    const label = `rule${n}`;
    const read = (path: string) => {
      const a = generator.variable('a');
      return { a, code: `let ${a};\n${generator.read(a, source, dotted(path))}` };
    };
    let body = '';
    for (const [path, values] of Object.entries(rule.when ?? {})) {
      const r = read(path);
      body += `${r.code}if (!${generator.constant(values)}.includes(String(${r.a}))) break ${label};\n`;
    }
    if (rule.unless) {
      const tests = Object.entries(rule.unless).map(([path, values]) => {
        const r = read(path);
        return { code: r.code, test: `${generator.constant(values)}.includes(String(${r.a}))` };
      });
      body += `${tests.map((t) => t.code).join('')}if (${tests.length > 0 ? tests.map((t) => t.test).join(' && ') : 'true'}) break ${label};\n`;
    }
    for (const path of rule.require ?? []) {
      const r = read(path);
      body += `${r.code}if (!present(${r.a})) return undefined;\n`;
    }
    for (const path of rule.forbid ?? []) {
      const r = read(path);
      body += `${r.code}if (present(${r.a})) return undefined;\n`;
    }
    if (rule.agree) {
      const value = read(rule.agree.field);
      const other = read(rule.agree.with);
      // The same expression as compileRule's, made the same way.
      const regex = generator.constant(new RegExp(compilePattern(rule.agree.capture, `${rule.agree.field} rule`).source.replace(/\$$/, '')));
      const captured = generator.variable('c');
      body += `${value.code}${other.code}const ${captured} = typeof ${other.a} === 'string' ? ${regex}.exec(${other.a})?.[1] : undefined;\n`;
      body += `if (${value.a} !== undefined && ${captured} !== undefined && ${captured} !== ${value.a}) return undefined;\n`;
    }
    code += `${label}: {\n${body}}\n`;
  });
  return code;
}

const present = (v: unknown) => v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0);

const generated = new WeakMap<Format, RecordText | null>();
const generatedFromMembers = new WeakMap<Format, MemberText | null>();

/** The generated writer for `format`'s records, made once; undefined when its fields need the tree's way. */
export function recordTextOf(format: Format): RecordText | undefined {
  let writer = generated.get(format);
  if (writer === undefined) {
    writer = generate(format, undefined);
    generated.set(format, writer);
  }
  return writer ?? undefined;
}

/** A C-TPAT member's text as its partner record's (memberToPartnerRecordSharing, then `DocumentWriter.textOf`), or undefined when that way must write it. */
export type MemberText = (member: Operator) => string | undefined;

/**
 * The generated writer of `format`'s records read straight from a C-TPAT member and the
 * mapping's outbound values (outbound.ts `outboundValuesOf`), with the mapping's rules
 * checked: no partner record made. Undefined where the outbound rules or the fields need
 * the record.
 */
export function memberTextOf(format: Format): MemberText | undefined {
  let writer = generatedFromMembers.get(format);
  if (writer === undefined) {
    const outbound = outboundValuesOf(format);
    const write = outbound && generate(format, outbound);
    writer = write ? (member: Operator) => write(member, outbound.values(member)) : null;
    generatedFromMembers.set(format, writer);
  }
  return writer ?? undefined;
}

function generate(format: Format, outbound: undefined): RecordText | null;
function generate(format: Format, outbound: OutboundValues): ((member: unknown, values: unknown[]) => string | undefined) | null;
function generate(format: Format, outbound: OutboundValues | undefined): ((source: unknown, values: unknown[]) => string | undefined) | null {
  const { mapping } = format;
  const syntax = mapping.syntax === 'csv-hdt' ? 'csv' : mapping.syntax;
  if (syntax === 'ndjson') return null;
  const generator = new Generator(syntax, format.textual, outbound);
  const root = newPlace('');
  const declare: string[] = [];
  let body: string;
  const fromMember = outbound !== undefined;
  try {
    const source: Source = fromMember ? { variable: 'member', at: [] } : { variable: 'record', at: undefined };
    const fields = compileFields(generator, format.recordFields, source, root, declare, 0);
    checkOrder(root);
    // From a record, the caller checks the rules on it; from a member, they are checked here.
    const rules = fromMember ? compileRules(generator, mapping.rules, source) : '';
    let text: string;
    if (syntax === 'xml') text = `let out = '';\n${emitXmlElement(root, mapping.xml!.record, indentOf(0), 'out', true)}return out;\n`;
    else if (syntax === 'json') text = `return ${concat(jsonObject(root))};\n`;
    else text = `return ${csvLine(root, mapping.csv!.record)};\n`;
    const values = fromMember ? outbound.targets.map((_, i) => `v${i} = values[${i}]`) : [];
    body = `${values.length > 0 ? `const ${values.join(', ')};\n` : ''}${declare.length > 0 ? `let ${declare.join(', ')};\n` : ''}${fields}${rules}${text}`;
  } catch (error) {
    if (error instanceof Unsupported) return null;
    throw error;
  }
  // Generated from JSON string literals and the mapping's compiled structure only: a mapping cannot put code in it.
  const make = new Function('types', 'constants', 'present', 'escapeText', 'escapeAttribute', 'csvField', 'jsonValue', `return function recordText(${fromMember ? 'member, values' : 'record'}) {\n${body}};`) as (
    ...helpers: unknown[]
  ) => (source: unknown, values: unknown[]) => string | undefined;
  return make(generator.types, generator.constants, present, escapeText, escapeAttribute, csvField, jsonValue);
}
