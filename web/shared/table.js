/**
 * A table of an API list with its pages (`cursor` → `next`), a "Load more" button while
 * there is more, and "Download CSV" of the rows loaded (csv.js defuses formulas). Cells
 * are text unless a column builds its own node; nothing is written as HTML.
 */
import { downloadCsv, toCsv } from './csv.js';

/**
 * @template T
 * @typedef {object} Column
 * @property {string} header
 * @property {(row: T) => unknown} value what the CSV holds, and the cell's text
 * @property {(row: T) => Node | string} [cell] a node for the cell (a link, a button) instead of the text
 * @property {string} [className]
 */

/**
 * @template T
 * @typedef {object} TableOptions
 * @property {string} caption
 * @property {Column<T>[]} columns
 * @property {(cursor: string | null) => Promise<{ rows: T[], next: string | null }>} fetchPage
 * @property {string} csvName the download's file name, without `.csv`
 * @property {(error: unknown) => void} onError
 * @property {string} [empty] what to say when there is no row
 * @property {(row: T) => string | undefined} [rowClass]
 */

/**
 * Builds the table and loads its first page; resolves once that page is shown.
 * @template T
 * @param {TableOptions<T>} options
 * @returns {Promise<HTMLElement>}
 */
export async function pagedTable(options) {
  /** @type {T[]} */
  const rows = [];
  /** @type {string | null} */
  let next = null;
  const section = document.createElement('section');
  section.className = 'paged-table';
  const toolbar = document.createElement('div');
  toolbar.className = 'toolbar';
  const count = document.createElement('span');
  count.className = 'count';
  const csv = button('Download CSV', () => {
    const header = options.columns.map((c) => c.header);
    downloadCsv(`${options.csvName}.csv`, toCsv(header, rows.map((row) => options.columns.map((c) => c.value(row)))));
  });
  csv.setAttribute('aria-label', `Download CSV: ${options.caption}`);
  toolbar.append(count, csv);

  const wrap = document.createElement('div');
  wrap.className = 'table-wrap';
  const table = document.createElement('table');
  const caption = document.createElement('caption');
  caption.textContent = options.caption;
  const head = document.createElement('thead');
  const headRow = document.createElement('tr');
  for (const column of options.columns) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = column.header;
    headRow.append(th);
  }
  head.append(headRow);
  const body = document.createElement('tbody');
  table.append(caption, head, body);
  wrap.append(table);

  const more = button('Load more', () => void load());
  more.hidden = true;
  section.append(toolbar, wrap, more);

  /** Appends rows to the table body. @param {T[]} page */
  const show = (page) => {
    for (const row of page) {
      const tr = document.createElement('tr');
      const extra = options.rowClass?.(row);
      if (extra) tr.className = extra;
      for (const column of options.columns) {
        const td = document.createElement('td');
        if (column.className) td.className = column.className;
        const content = column.cell ? column.cell(row) : cellText(column.value(row));
        td.append(content);
        tr.append(td);
      }
      body.append(tr);
    }
  };

  const load = async () => {
    more.disabled = true;
    try {
      const page = await options.fetchPage(next);
      rows.push(...page.rows);
      next = page.next;
      show(page.rows);
      if (rows.length === 0 && options.empty) {
        const tr = document.createElement('tr');
        const td = document.createElement('td');
        td.colSpan = options.columns.length;
        td.className = 'empty';
        td.textContent = options.empty;
        tr.append(td);
        body.append(tr);
      }
      count.textContent = `${rows.length} shown${next ? ', more to load' : ''}`;
      more.hidden = next === null;
    } catch (error) {
      options.onError(error);
    } finally {
      more.disabled = false;
    }
  };
  await load();
  return section;
}

/**
 * A real button (keyboard and screen reader alike).
 * @param {string} label
 * @param {() => void} onClick
 * @returns {HTMLButtonElement}
 */
function button(label, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  b.addEventListener('click', onClick);
  return b;
}

/**
 * A value as cell text.
 * @param {unknown} value
 * @returns {string}
 */
function cellText(value) {
  if (value === null || value === undefined || value === '') return '—';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
