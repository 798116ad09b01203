/** The audit log: who did what to which subject, and why; newest first. */
import { h, text, when } from '../../shared/dom.js';
import { listView } from './common.js';

/** @typedef {import('../main.js').Context} Context */

/** @param {Context} ctx */
export async function auditView(ctx) {
  await listView(ctx, {
    title: 'Audit log',
    filterLabel: 'Filter the audit log',
    filters: [
      { name: 'actor', label: 'Actor' },
      { name: 'action', label: 'Action' },
      { name: 'subject', label: 'Subject' },
    ],
    path: '/v1/audit',
    member: 'entries',
    table: () => ({
      caption: 'Audit log, newest first',
      csvName: 'audit-log',
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
  });
}
