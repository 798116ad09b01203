/** Exchanges: the batches partners sent, filtered by partner, state and date; one exchange with its signature, receipt and raw document. */
import { call } from '../api.js';
import { h, replace, text, when } from '../../shared/dom.js';
import { badge, listView, summary } from './common.js';

/** @typedef {import('../main.js').Context} Context */

/** @param {Context} ctx */
export async function exchangesView(ctx) {
  await listView(ctx, {
    title: 'Exchanges',
    filterLabel: 'Filter exchanges',
    filters: [
      { name: 'partner', label: 'Partner' },
      { name: 'state', label: 'State', options: ['', 'received', 'processing', 'applied', 'held', 'stale', 'failed'] },
      { name: 'from', label: 'Received from', type: 'date' },
      { name: 'to', label: 'Received to', type: 'date' },
    ],
    path: '/v1/exchanges',
    member: 'exchanges',
    table: () => ({
      caption: 'Exchanges received',
      csvName: 'exchanges',
      empty: 'No exchange matches.',
      columns: [
        { header: 'Exchange', value: (x) => x.exchangeId, cell: (x) => h('a', { href: `#/exchanges/${encodeURIComponent(x.exchangeId)}`, class: 'mono' }, String(x.exchangeId).slice(0, 8)) },
        { header: 'Partner', value: (x) => x.partner },
        { header: 'Batch', value: (x) => x.batchId, className: 'mono' },
        { header: 'Sequence', value: (x) => x.sequence },
        { header: 'Kind', value: (x) => x.kind },
        { header: 'State', value: (x) => x.state, cell: (x) => badge(x.state) },
        { header: 'Disposition', value: (x) => x.disposition },
        { header: 'Held because', value: (x) => x.heldReason },
        { header: 'Received', value: (x) => x.receivedAt, cell: (x) => when(x.receivedAt) },
        { header: 'Counts', value: (x) => x.counts, cell: (x) => counts(x.counts) },
      ],
    }),
  });
}

/**
 * One exchange: its facts, signature and receipt, and the document as received.
 * @param {Context} ctx
 * @param {string} id
 */
export async function exchangeView(ctx, id) {
  const x = await call(`/v1/exchanges/${encodeURIComponent(id)}`);
  const documentArea = h('div');
  const show = h('button', { type: 'button', onclick: () => void showDocument(ctx, id, documentArea) }, 'Show the raw document');
  replace(
    ctx.main,
    h('p', {}, h('a', { href: '#/exchanges' }, '← Back to exchanges')),
    ctx.heading(`Exchange ${text(x.exchangeId)}`),
    summary([
      ['Partner', text(x.partner)],
      ['Batch', `${text(x.batchId)} (sequence ${text(x.sequence)}, ${text(x.kind)})`],
      ['State', badge(x.state)],
      ['Disposition', `${text(x.disposition)}${x.heldReason ? ` — held: ${x.heldReason}` : ''}`],
      ['Received', when(x.receivedAt)],
      ['Counts', counts(x.counts)],
      ['Digest', h('span', { class: 'mono' }, text(x.digest))],
      ['Content type', text(x.contentType)],
    ]),
    h('h3', {}, 'JWS-Signature header'),
    h('pre', {}, text(x.signatureHeader)),
    h('h3', {}, 'Receipt'),
    h('pre', {}, text(x.receipt)),
    h('h3', {}, 'Document'),
    x.documentRemoved ? h('p', { class: 'hint' }, 'The document has been removed (retention); its digest above is what was received.') : [show, documentArea],
  );
}

/**
 * Fetches the raw document with the token and shows it as text (and offers it as a file).
 * @param {Context} ctx
 * @param {string} id
 * @param {HTMLElement} into
 */
async function showDocument(ctx, id, into) {
  try {
    /** @type {Response} */
    const response = await call(`/v1/exchanges/${encodeURIComponent(id)}/document`, { raw: true });
    const type = response.headers.get('Content-Type') ?? 'application/octet-stream';
    const blob = await response.blob();
    const textual = /xml|json|csv|text|ndjson/.test(type);
    const body = textual ? await blob.text() : `(${blob.size} bytes of ${type})`;
    const download = h('button', {
      type: 'button',
      onclick: () => {
        const url = URL.createObjectURL(blob);
        const link = h('a', { href: url, download: `exchange-${id}` });
        document.body.append(link);
        link.click();
        link.remove();
        setTimeout(() => URL.revokeObjectURL(url), 10_000);
      },
    }, 'Download the document');
    replace(into, h('p', { class: 'hint' }, `${type}, ${blob.size} bytes`), download, h('pre', { 'aria-label': 'Raw document' }, body));
  } catch (error) {
    ctx.fail(error);
  }
}

/**
 * A batch's counts as words (`records 2 · created 2`), the zero ones left out.
 * @param {unknown} value
 * @returns {string}
 */
function counts(value) {
  if (value === null || typeof value !== 'object') return text(value);
  const shown = Object.entries(value).filter(([, n]) => n !== 0);
  return shown.length === 0 ? 'none' : shown.map(([k, n]) => `${k} ${n}`).join(' · ');
}
