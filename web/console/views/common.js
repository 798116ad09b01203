/** What the views share: list views (filter form and paged table), a list fetcher for the API's pages, records as fact lists. */
import { call } from '../api.js';
import { h, replace, text } from '../../shared/dom.js';
import { pagedTable } from '../../shared/table.js';

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

/**
 * A list view: its heading, a filter form and a paged table of an API list, loaded again
 * with each filter the reader applies.
 * @param {import('../main.js').Context} ctx
 * @param {object} spec
 * @param {string} spec.title
 * @param {string} spec.filterLabel
 * @param {Filter[]} spec.filters
 * @param {string} spec.path the API list
 * @param {string} spec.member the array's member in the answer
 * @param {(filters: Record<string, string>) => Omit<import('../../shared/table.js').TableOptions<any>, 'fetchPage' | 'onError'>} spec.table
 * @param {Record<string, string>} [spec.initial] the filters of the first load
 */
export async function listView(ctx, spec) {
  const list = h('div');
  /** @param {Record<string, string>} filters */
  const load = async (filters) => {
    ctx.clear();
    replace(list, await pagedTable({ ...spec.table(filters), fetchPage: lister(spec.path, spec.member, filters), onError: ctx.fail }));
  };
  const form = filterForm(spec.filterLabel, spec.filters, (values) => void load(values));
  replace(ctx.main, ctx.heading(spec.title), form, list);
  await load(spec.initial ?? {});
}
