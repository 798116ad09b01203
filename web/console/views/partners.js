/** Partners: each partner's health (sequences, held batches, deliveries), its dead letters with Replay and Skip. */
import { call } from '../api.js';
import { h, replace, text, when } from '../../shared/dom.js';
import { downloadCsv, toCsv } from '../../shared/csv.js';
import { pagedTable } from '../../shared/table.js';
import { badge, lister } from './common.js';

/** @typedef {import('../main.js').Context} Context */

/** @param {Context} ctx */
export async function partnersView(ctx) {
  const dead = h('section', { 'aria-labelledby': 'dead-title', class: 'dead-letters' });
  /** @type {any[]} */
  const partners = [];
  const page = lister('/v1/partners', 'partners', {});
  const table = await pagedTable({
    caption: 'Partners',
    csvName: 'partners',
    onError: ctx.fail,
    empty: 'No partner in the registry.',
    fetchPage: async (cursor) => {
      const answer = await page(cursor);
      partners.push(...answer.rows);
      drawDeadLetters(ctx, partners, dead);
      return answer;
    },
    columns: [
      { header: 'Partner', value: (p) => `${p.id} ${p.name ?? ''}`.trim(), cell: (p) => h('span', {}, h('strong', {}, text(p.id)), ` ${p.name ?? ''}`) },
      { header: 'Programme', value: (p) => `${p.programme ?? ''} (${p.format ?? ''})` },
      { header: 'Status', value: (p) => p.status, cell: (p) => badge(p.status) },
      {
        header: 'Inbound',
        value: (p) => `sequence ${p.inbound?.lastSequence ?? '-'}; snapshot base ${p.inbound?.snapshotBase ?? '-'}; last received ${p.inbound?.lastReceivedAt ?? '-'}`,
        cell: (p) => lines([`sequence ${text(p.inbound?.lastSequence)} · base ${text(p.inbound?.snapshotBase)}`, `received ${when(p.inbound?.lastReceivedAt)}`]),
      },
      { header: 'Held batches', value: (p) => p.inbound?.heldBatches },
      {
        header: 'Outbound',
        value: (p) => (p.outbound ? `sequence ${p.outbound.lastSequence}; last delivered ${p.outbound.lastDelivered ?? '-'}; pending ${p.outbound.pending}; breaker open until ${p.outbound.breakerOpenUntil ?? '-'}` : 'no deliveries'),
        cell: (p) =>
          p.outbound
            ? lines([`sequence ${text(p.outbound.lastSequence)} · delivered up to ${text(p.outbound.lastDelivered)}`, `pending ${text(p.outbound.pending)}${p.outbound.breakerOpenUntil ? ` · breaker open until ${when(p.outbound.breakerOpenUntil)}` : ''}`])
            : h('span', { class: 'hint' }, 'no deliveries'),
      },
      { header: 'Dead letters', value: (p) => p.outbound?.deadLetters?.length ?? '', cell: (p) => (p.outbound?.deadLetters?.length ? h('span', { class: 'state state-dead' }, `${p.outbound.deadLetters.length} dead`) : text(p.outbound ? 0 : null)) },
      { header: 'Open discrepancies', value: (p) => p.openDiscrepancies },
      { header: 'Keys (kid, alg, last used)', value: (p) => (p.keys ?? []).map((/** @type {any} */ k) => `${k.kid} ${k.alg} ${k.lastUsedAt ?? 'never'}`).join('; '), cell: (p) => lines((p.keys ?? []).map((/** @type {any} */ k) => `${k.kid} ${k.alg} · ${k.lastUsedAt ? when(k.lastUsedAt) : 'never used'}`), 'mono') },
    ],
  });
  replace(
    ctx.main,
    ctx.heading('Partners'),
    ctx.admin ? null : h('p', { class: 'hint' }, 'Replay, Skip and Send SNAPSHOT are for admins; the gateway refuses them for other roles.'),
    table,
    dead,
    snapshotForm(ctx, partners.filter((p) => p.outbound !== null && p.outbound !== undefined)),
  );
}

/**
 * "Send a SNAPSHOT now" to a partner that takes deliveries, with a reason (audited).
 * @param {Context} ctx
 * @param {any[]} delivering
 * @returns {HTMLElement | null}
 */
function snapshotForm(ctx, delivering) {
  if (delivering.length === 0) return null;
  const partner = /** @type {HTMLSelectElement} */ (h('select', { id: 'snapshot-partner', name: 'partner' }, delivering.map((p) => h('option', { value: p.id }, `${p.id} ${p.name ?? ''}`))));
  const reason = /** @type {HTMLInputElement} */ (h('input', { id: 'snapshot-reason', name: 'reason', maxlength: 2000, size: 40 }));
  const problem = h('p', { class: 'action-problem', role: 'alert' });
  return h(
    'section',
    { 'aria-labelledby': 'snapshot-title' },
    h('h3', { id: 'snapshot-title' }, 'Send a full SNAPSHOT now'),
    h(
      'form',
      {
        class: 'filters',
        novalidate: true,
        'aria-labelledby': 'snapshot-title',
        onsubmit: (event) => {
          event.preventDefault();
          problem.textContent = '';
          if (reason.value.trim() === '') {
            problem.textContent = 'A reason is required: say why, for the audit log.';
            reason.focus();
            return;
          }
          void (async () => {
            try {
              const queued = await call(`/v1/partners/${encodeURIComponent(partner.value)}/snapshot`, { method: 'POST', body: { reason: reason.value.trim() } });
              ctx.tell(`A full SNAPSHOT for ${queued.partner ?? partner.value} is queued.`);
              reason.value = '';
            } catch (error) {
              problem.textContent = error instanceof Error ? error.message : String(error);
              ctx.fail(error);
            }
          })();
        },
      },
      h('label', { for: 'snapshot-partner' }, 'Partner', partner),
      h('label', { for: 'snapshot-reason' }, 'Reason (required)', reason),
      h('button', { type: 'submit' }, 'Send SNAPSHOT'),
      problem,
    ),
  );
}

/**
 * Short lines in one cell.
 * @param {string[]} texts
 * @param {string} [className]
 * @returns {HTMLElement}
 */
function lines(texts, className) {
  return h('span', { class: `lines ${className ?? ''}` }, texts.map((t) => h('span', {}, t)));
}

/**
 * The dead letters of the loaded partners, each with a reason and its two actions.
 * @param {Context} ctx
 * @param {any[]} partners
 * @param {HTMLElement} into
 */
function drawDeadLetters(ctx, partners, into) {
  const letters = partners.flatMap((p) => (p.outbound?.deadLetters ?? []).map((/** @type {any} */ d) => ({ ...d, partner: p.id })));
  replace(into, h('h3', { id: 'dead-title' }, `Dead letters (${letters.length})`));
  if (letters.length === 0) {
    into.append(h('p', { class: 'hint' }, 'No dead letter: every outbound document was delivered or is on its way.'));
    return;
  }
  const rows = letters.map((d) => {
    const state = h('span', { class: 'state state-dead', 'data-delivery': d.id, role: 'status' }, 'dead');
    const reason = /** @type {HTMLInputElement} */ (h('input', { name: 'reason', required: true, maxlength: 2000, 'aria-label': `Reason for delivery ${d.sequence} to ${d.partner}`, placeholder: 'Reason (required)' }));
    const problem = h('p', { class: 'action-problem', role: 'alert' });
    /** @param {'replay' | 'skip'} action */
    const act = (action) => async () => {
      problem.textContent = '';
      if (reason.value.trim() === '') {
        problem.textContent = 'A reason is required: say why, for the audit log.';
        reason.focus();
        return;
      }
      try {
        await call(`/v1/deliveries/${encodeURIComponent(d.id)}/${action}`, { method: 'POST', body: { reason: reason.value.trim() } });
        ctx.tell(action === 'replay' ? `Delivery ${d.sequence} to ${d.partner} replayed: it goes again with the same bytes.` : `Delivery ${d.sequence} to ${d.partner} skipped: a fresh SNAPSHOT takes its sequence.`);
        for (const b of form.querySelectorAll('button')) b.disabled = true;
        // The pressed button is now disabled: focus moves to the letter's state, which follows the delivery.
        state.setAttribute('tabindex', '-1');
        state.focus();
        await follow(d.id, state);
      } catch (error) {
        problem.textContent = error instanceof Error ? error.message : String(error);
        ctx.fail(error);
      }
    };
    const form = h(
      'form',
      { 'aria-label': `Dead letter ${d.sequence} to ${d.partner}`, onsubmit: (event) => event.preventDefault() },
      reason,
      h('button', { type: 'button', class: 'primary', onclick: act('replay') }, 'Replay'),
      h('button', { type: 'button', class: 'danger', onclick: act('skip') }, 'Skip'),
      problem,
    );
    return h('tr', {}, h('td', {}, d.partner), h('td', {}, String(d.sequence)), h('td', { class: 'mono' }, d.id), h('td', {}, text(d.lastError ?? d.error)), h('td', {}, state), h('td', {}, form));
  });
  const csv = () => downloadCsv('dead-letters.csv', toCsv(['Partner', 'Sequence', 'Delivery', 'Last error'], letters.map((d) => [d.partner, d.sequence, d.id, d.lastError ?? d.error])));
  into.append(
    h('div', { class: 'toolbar' }, h('span', { class: 'count' }, `${letters.length} dead`), h('button', { type: 'button', onclick: csv, 'aria-label': 'Download CSV: Dead letters' }, 'Download CSV')),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        {},
        h('caption', {}, 'Dead letters: documents the partner refused until the retry budget ran out'),
        h('thead', {}, h('tr', {}, ['Partner', 'Sequence', 'Delivery', 'Last error', 'State', 'Action'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, rows),
      ),
    ),
  );
}

/**
 * Follows a delivery's state for a while after an action (pending, then delivered or dead again).
 * @param {string} id
 * @param {HTMLElement} state
 */
async function follow(id, state) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      const view = await call(`/v1/deliveries/${encodeURIComponent(id)}`);
      state.textContent = String(view.state);
      state.className = `state state-${view.state}`;
      if (view.state !== 'pending') return;
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
