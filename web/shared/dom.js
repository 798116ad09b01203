// @ts-check
/**
 * Building the pages' DOM without innerHTML: every text from the gateway, or pasted by a
 * reader, becomes a text node, so none of it can turn into markup or script. Style goes
 * through classes only (the Content-Security-Policy forbids style attributes).
 */

/**
 * @typedef {Node | string | null | undefined | false} Child
 */

/**
 * An element with attributes (`true` for a bare attribute; `undefined` and `false` leave it out) and children.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string | boolean | undefined>} [attributes]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) element.append(child);
  }
  return element;
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
