/** Discrepancies: the queue, one discrepancy's evidence side by side with its MID construction, and the decision. */
import { call } from '../api.js';
import { append, h, replace, text, when } from '../../shared/dom.js';
import { badge, facts, listView, summary } from './common.js';

/** @typedef {import('../main.js').Context} Context */

/** @param {Context} ctx */
export async function discrepanciesView(ctx) {
  await listView(ctx, {
    title: 'Discrepancies',
    filterLabel: 'Filter discrepancies',
    filters: [
      { name: 'state', label: 'State', options: ['open', 'accepted', 'overridden', 'dismissed', 'all'], value: 'open' },
      { name: 'partner', label: 'Partner' },
      { name: 'kind', label: 'Kind' },
      { name: 'mid', label: 'MID' },
    ],
    path: '/v1/discrepancies',
    member: 'discrepancies',
    initial: { state: 'open' },
    table: (filters) => ({
      caption: `Discrepancies (${filters['state'] ?? 'open'})`,
      csvName: `discrepancies-${filters['state'] ?? 'open'}`,
      empty: 'No discrepancy matches.',
      columns: [
        { header: 'Id', value: (d) => d.id, cell: (d) => h('a', { href: `#/discrepancies/${encodeURIComponent(d.id)}`, 'aria-label': `Open discrepancy ${d.id}` }, String(d.id)) },
        { header: 'Kind', value: (d) => d.kind },
        { header: 'Partner', value: (d) => d.partner },
        { header: 'Key', value: (d) => d.key, className: 'mono' },
        { header: 'MID', value: (d) => d.mid, className: 'mono' },
        { header: 'State', value: (d) => d.state, cell: (d) => badge(d.state) },
        { header: 'Opened', value: (d) => d.openedAt, cell: (d) => when(d.openedAt) },
        { header: 'Decided by', value: (d) => d.decidedBy },
        { header: 'Reason', value: (d) => d.reason },
      ],
    }),
  });
}

/**
 * One discrepancy: what it is, the evidence side by side, the MID construction, the decision.
 * @param {Context} ctx
 * @param {string} id
 */
export async function discrepancyView(ctx, id) {
  const d = await call(`/v1/discrepancies/${encodeURIComponent(id)}`);
  const evidence = d.evidence ?? {};
  const decision = h('section', { 'aria-labelledby': 'decision-title' });
  replace(
    ctx.main,
    h('p', { class: 'back' }, h('a', { href: '#/discrepancies' }, '← Back to the queue')),
    ctx.heading(`Discrepancy ${d.id}: ${d.kind}`),
    h(
      'div',
      { class: 'layout-2' },
      h(
        'div',
        {},
        summary([
          ['Partner / key', `${text(d.partner)} ${text(d.key)}`],
          ['MID', h('span', { class: 'mono' }, text(d.mid))],
          ['State', badge(d.state)],
          ['Opened', when(d.openedAt)],
          ['Exchange', d.exchangeId ? h('a', { href: `#/exchanges/${encodeURIComponent(d.exchangeId)}`, class: 'mono' }, d.exchangeId) : '—'],
        ]),
        decision,
      ),
      // The MID construction says what the detail says about a MID, part by part; other kinds show their detail.
      evidence.mid ? midConstruction(evidence.mid) : h('section', { 'aria-label': 'Detail' }, h('h3', {}, 'Detail'), facts(d.detail ?? null)),
    ),
    h('h3', { id: 'evidence-title' }, 'Evidence side by side'),
    h(
      'div',
      { class: 'evidence', role: 'group', 'aria-labelledby': 'evidence-title' },
      h('section', { 'aria-label': 'Partner record' }, h('h3', {}, `Partner record: ${text(d.partner)} ${text(d.key)}`), facts(evidence.record ?? null)),
      h(
        'section',
        { 'aria-label': 'Other operators' },
        h('h3', {}, 'Other operators with this MID'),
        (evidence.others ?? []).length === 0 ? h('p', { class: 'none' }, 'none') : (evidence.others ?? []).map((/** @type {any} */ o) => [h('h4', {}, `${text(o.partner)} ${text(o.key)}`), facts(o.record)]),
      ),
      h(
        'section',
        { 'aria-label': 'C-TPAT members' },
        h('h3', {}, 'C-TPAT members holding this MID'),
        (evidence.ctpatMembers ?? []).length === 0 ? h('p', { class: 'none' }, 'none') : (evidence.ctpatMembers ?? []).map((/** @type {any} */ m) => [h('h4', {}, `Account ${text(m.account)} · ${text(m.status)}`), facts(m.record)]),
      ),
    ),
  );
  drawDecision(ctx, d, decision);
}

/**
 * The MID as the partner gave it against the MID its record constructs, part by part, the differing parts marked.
 * @param {any} mid an explanation: given, expected, matches, differences, givenParts, expectedParts
 * @returns {HTMLElement}
 */
function midConstruction(mid) {
  const section = h('section', { 'aria-labelledby': 'mid-title' }, h('h3', { id: 'mid-title' }, 'MID construction'));
  const parts = ['country', 'name', 'number', 'city'];
  const rows = parts.map((part) => {
    const expected = mid.expectedParts?.[part];
    const given = mid.givenParts?.[part];
    const same = (expected ?? '') === (given ?? '');
    return h(
      'tr',
      { class: same ? undefined : 'differs' },
      h('td', { class: 'part' }, part),
      h('td', { class: 'mono' }, text(expected)),
      h('td', { class: 'mono' }, text(given)),
      h('td', { class: 'verdict' }, same ? '✓ same' : '✗ differs'),
    );
  });
  append(
    section,
    [summary([
      ['Given', h('span', { class: 'mono' }, text(mid.given))],
      ['Constructed from the record', h('span', { class: 'mono' }, text(mid.expected))],
      ['Verdict', mid.matches ? 'matches' : 'does not match'],
    ]),
    h(
      'table',
      { class: 'mid-table' },
      h('caption', {}, 'MID parts: constructed (expected) against given'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Part'), h('th', { scope: 'col' }, 'Expected'), h('th', { scope: 'col' }, 'Given'), h('th', { scope: 'col' }, 'Compared'))),
      h('tbody', {}, rows),
    ),
    (mid.differences ?? []).length > 0 ? h('ul', { class: 'differences' }, (mid.differences ?? []).map((/** @type {string} */ s) => h('li', {}, s))) : null],
  );
  return section;
}

/**
 * The decision: the form while open, who decided and why afterwards.
 * @param {Context} ctx
 * @param {any} d
 * @param {HTMLElement} into
 */
function drawDecision(ctx, d, into) {
  if (d.state !== 'open') {
    replace(into, h('h3', { id: 'decision-title' }, 'Decision'), summary([['Decision', badge(d.state)], ['Decided by', text(d.decidedBy)], ['Decided', when(d.decidedAt)], ['Reason', text(d.reason)]]));
    return;
  }
  const reason = /** @type {HTMLTextAreaElement} */ (h('textarea', { id: 'reason', name: 'reason', required: true, maxlength: 2000 }));
  const choice = ['accepted', 'overridden', 'dismissed'].map((value, i) =>
    h('label', { class: 'choice' }, h('input', { type: 'radio', name: 'decision', value, required: true, checked: i === 0 }), value),
  );
  const form = /** @type {HTMLFormElement} */ (
    h(
      'form',
      {
        'aria-labelledby': 'decision-title',
        // The page says what is missing itself, in its alert, rather than the browser's tooltip.
        novalidate: true,
        onsubmit: (event) => {
          event.preventDefault();
          const picked = /** @type {HTMLInputElement | null} */ (form.querySelector('input[name="decision"]:checked'));
          if (reason.value.trim() === '') {
            ctx.fail(new Error('A reason is required: say why, for the audit log.'));
            reason.focus();
            return;
          }
          void (async () => {
            try {
              const decided = await call(`/v1/discrepancies/${encodeURIComponent(d.id)}/decision`, { method: 'POST', body: { decision: picked?.value ?? 'accepted', reason: reason.value.trim() } });
              ctx.tell(`Discrepancy ${decided.id} ${decided.state} by ${decided.decidedBy}.`);
              drawDecision(ctx, { ...d, state: decided.state, decidedBy: decided.decidedBy, decidedAt: new Date().toISOString(), reason: reason.value.trim() }, into);
              into.querySelector('h3')?.setAttribute('tabindex', '-1');
              /** @type {HTMLElement | null} */ (into.querySelector('h3'))?.focus();
            } catch (error) {
              ctx.fail(error);
            }
          })();
        },
      },
      h('fieldset', {}, h('legend', {}, 'Decision'), h('div', { class: 'row' }, choice)),
      h('label', { for: 'reason' }, 'Reason (required, goes to the audit log)', reason),
      h('div', {}, h('button', { type: 'submit', class: 'primary' }, 'Record decision')),
    )
  );
  replace(into, h('h3', { id: 'decision-title' }, 'Decide'), form);
}
