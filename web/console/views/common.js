/** What the views share: filter forms, a list fetcher for the API's pages, records as fact lists. */
import { call } from '../api.js';
import { h, text } from '../dom.js';

/**
 * A page of an API list (`limit`, `cursor` → `next`).
 * @param {string} path
 * @param {string} key the array's member in the answer
 * @param {Record<string, string>} filters
 * @returns {(cursor: string | null) => Promise<{ rows: any[], next: string | null }>}
 */
export function lister(path, key, filters) {
  return async (cursor) => {
    const answer = await call(path, { query: { ...filters, limit: 50, cursor } });
    return { rows: Array.isArray(answer[key]) ? answer[key] : [], next: typeof answer.next === 'string' && answer.next !== '' ? answer.next : null };
  };
}

/**
 * @typedef {object} Filter
 * @property {string} name the query parameter
 * @property {string} label
 * @property {string[]} [options] a select's values ('' first means any)
 * @property {string} [type] an input's type (text, date)
 * @property {string} [value] the initial value
 */

/**
 * A filter form; `apply` gets the values (empty ones left out) on submit.
 * @param {string} label
 * @param {Filter[]} filters
 * @param {(values: Record<string, string>) => void} apply
 * @returns {HTMLFormElement}
 */
export function filterForm(label, filters, apply) {
  /** @type {Map<string, HTMLInputElement | HTMLSelectElement>} */
  const fields = new Map();
  const controls = filters.map((filter) => {
    const id = `filter-${filter.name}`;
    const control = filter.options
      ? /** @type {HTMLSelectElement} */ (h('select', { id, name: filter.name }, filter.options.map((o) => h('option', { value: o, selected: o === (filter.value ?? '') }, o === '' ? 'any' : o))))
      : /** @type {HTMLInputElement} */ (h('input', { id, name: filter.name, type: filter.type ?? 'text', value: filter.value ?? '', autocomplete: 'off', size: 14 }));
    fields.set(filter.name, control);
    return h('label', { for: id }, filter.label, control);
  });
  return /** @type {HTMLFormElement} */ (
    h(
      'form',
      {
        class: 'filters',
        'aria-label': label,
        onsubmit: (event) => {
          event.preventDefault();
          apply(values(fields));
        },
      },
      controls,
      h('button', { type: 'submit', class: 'primary' }, 'Apply filters'),
    )
  );
}

/**
 * The form's values, empty ones left out.
 * @param {Map<string, HTMLInputElement | HTMLSelectElement>} fields
 * @returns {Record<string, string>}
 */
function values(fields) {
  /** @type {Record<string, string>} */
  const out = {};
  for (const [name, control] of fields) if (control.value.trim() !== '') out[name] = control.value.trim();
  return out;
}

/**
 * A record (any JSON) as a list of facts, nested members by their dotted path.
 * @param {unknown} record
 * @returns {HTMLElement}
 */
export function facts(record) {
  if (record === null || record === undefined) return h('p', { class: 'none' }, 'none');
  const list = h('dl', { class: 'facts' });
  for (const [path, value] of flatten(record, '')) list.append(h('dt', {}, path || 'value'), h('dd', {}, text(value)));
  return list;
}

/**
 * @param {unknown} value
 * @param {string} prefix
 * @returns {[string, unknown][]}
 */
function flatten(value, prefix) {
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== 'object')) return [[prefix, value.join(', ')]];
    return value.flatMap((v, i) => flatten(v, `${prefix}[${i}]`));
  }
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k));
  return [[prefix, value]];
}

/**
 * A state as a small labelled badge (its word, not only its colour).
 * @param {unknown} state
 * @returns {HTMLElement}
 */
export function badge(state) {
  const word = text(state);
  return h('span', { class: `state state-${word}` }, word);
}

/**
 * A fact list from label/value pairs.
 * @param {[string, string | Node][]} pairs
 * @returns {HTMLElement}
 */
export function summary(pairs) {
  return h('dl', { class: 'facts' }, pairs.map(([label, value]) => [h('dt', {}, label), h('dd', {}, value)]));
}
