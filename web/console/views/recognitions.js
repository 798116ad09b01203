/** Recognitions: who is recognized under which partner, with the rule (PROTOCOL §5) that decided it and the batch it came from. */
import { h, text } from '../../shared/dom.js';
import { badge, listView } from './common.js';

/** @typedef {import('../main.js').Context} Context */

/** @param {Context} ctx */
export async function recognitionsView(ctx) {
  await listView(ctx, {
    title: 'Recognitions',
    filterLabel: 'Filter recognitions',
    filters: [
      { name: 'partner', label: 'Partner' },
      { name: 'state', label: 'State', options: ['', 'recognized', 'suspended', 'revoked', 'withdrawn', 'out-of-scope'] },
      { name: 'mid', label: 'MID' },
      { name: 'operator', label: 'Operator key or name' },
    ],
    path: '/v1/recognitions',
    member: 'recognitions',
    table: () => ({
      caption: 'Recognitions',
      csvName: 'recognitions',
      empty: 'No recognition matches.',
      columns: [
        { header: 'Partner', value: (r) => r.partner },
        { header: 'Key', value: (r) => r.key, className: 'mono' },
        { header: 'Name', value: (r) => r.name },
        { header: 'State', value: (r) => r.state, cell: (r) => badge(r.state) },
        { header: 'Since', value: (r) => r.since, cell: (r) => text(r.since) },
        { header: 'Rule', value: (r) => (r.rule ? `${r.rule.id}: ${r.rule.text}` : ''), cell: (r) => (r.rule ? h('span', {}, h('strong', {}, text(r.rule.id)), ` ${text(r.rule.text)}`) : '—') },
        {
          header: 'Batch',
          value: (r) => (r.batch ? `${r.batch.batchId} #${r.batch.sequence}` : ''),
          cell: (r) => (r.batch?.exchangeId ? h('a', { href: `#/exchanges/${encodeURIComponent(r.batch.exchangeId)}` }, `${text(r.batch.batchId)} #${text(r.batch.sequence)}`) : '—'),
        },
        { header: 'Benefits', value: (r) => (r.benefits ?? []).map((/** @type {any} */ b) => (typeof b === 'string' ? b : `${b.benefit} (${b.mid}, since ${b.since})`)).join('; ') },
        { header: 'MIDs', value: (r) => (r.mids ?? []).join(' '), className: 'mono' },
      ],
    }),
  });
}
