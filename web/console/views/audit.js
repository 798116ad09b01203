/** The audit log: who did what to which subject, and why; newest first. */
import { h, replace, text, when } from '../dom.js';
import { pagedTable } from '../../shared/table.js';
import { filterForm, lister } from './common.js';

/** @typedef {import('../main.js').Context} Context */

/** @param {Context} ctx */
export async function auditView(ctx) {
  const list = h('div');
  /** @param {Record<string, string>} filters */
  const load = async (filters) => {
    ctx.clear();
    replace(
      list,
      await pagedTable({
        caption: 'Audit log, newest first',
        csvName: 'audit-log',
        fetchPage: lister('/v1/audit', 'entries', filters),
        onError: ctx.fail,
        empty: 'No entry matches.',
        columns: [
          { header: 'When', value: (e) => e.at, cell: (e) => when(e.at) },
          { header: 'Actor', value: (e) => e.actor },
          { header: 'Action', value: (e) => e.action },
          { header: 'Subject', value: (e) => e.subject, className: 'mono' },
          { header: 'Reason', value: (e) => e.detail?.reason },
          { header: 'Detail', value: (e) => e.detail, cell: (e) => h('span', { class: 'mono' }, text(e.detail)) },
        ],
      }),
    );
  };
  const form = filterForm(
    'Filter the audit log',
    [
      { name: 'actor', label: 'Actor' },
      { name: 'action', label: 'Action' },
      { name: 'subject', label: 'Subject' },
    ],
    (values) => void load(values),
  );
  replace(ctx.main, ctx.heading('Audit log'), form, list);
  await load({});
}
