// @ts-check
/**
 * Building the pages' DOM without HTML strings: every value from the gateway, or pasted by
 * a reader, becomes a text node, never markup, so none of it can turn into script. Style
 * goes through classes only (the Content-Security-Policy forbids style attributes).
 */

/**
 * @typedef {string | number | Node | null | undefined | false} Child
 * @typedef {Child | Child[] | (Child | Child[])[]} Children
 * @typedef {Record<string, string | number | boolean | null | undefined | EventListener>} Attributes
 */

/**
 * An element with attributes (`on<event>` for listeners, `class`, booleans as present or not) and children.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Attributes} [attributes]
 * @param {...Children} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.slice(2).toLowerCase(), value);
    else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

/**
 * Appends children (text for strings and numbers; nested arrays flattened; empties skipped).
 * @param {Element} parent
 * @param {Children[]} children
 */
export function append(parent, children) {
  for (const child of /** @type {Child[]} */ (children.flat(Infinity))) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(typeof child === 'number' ? String(child) : child);
  }
}

/**
 * Replaces an element's children.
 * @param {Element} parent
 * @param {...Children} children
 */
export function replace(parent, ...children) {
  parent.replaceChildren();
  append(parent, children);
}

/**
 * A date-time as the officer reads it (UTC, to the second), or a dash.
 * @param {string | null | undefined} iso
 * @returns {string}
 */
export function when(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/**
 * Any value as short text for a table cell.
 * @param {unknown} value
 * @returns {string}
 */
export function text(value) {
  if (value === null || value === undefined || value === '') return '—';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/**
 * The element with this id, which the page's HTML must have.
 * @param {string} id
 * @returns {HTMLElement}
 */
export function byId(id) {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`the page has no element #${id}`);
  return element;
}
