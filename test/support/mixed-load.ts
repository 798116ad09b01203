/**
 * A fixed mixed load for a scaled-out gateway (test/support/cluster.ts): three documents
 * from each of the six partners (a SNAPSHOT, a DELTA suspending one operator, a DELTA
 * making it valid again, built from fixtures/<format>/sample), status look-ups between
 * them, a C-TPAT import and a staff SNAPSHOT to every partner (outbound deliveries).
 * Requests go round the APIs given; one that fails at the connection level is sent again,
 * as is, to the next API: a partner's retry, same jti and body.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Partner } from '../../src/registry/partner.ts';
import { signRequest } from '../../src/sign/request-signature.ts';
import { loadFormats } from '../../src/translate/load-mappings.ts';
import { readDocument } from '../../src/translate/read-document.ts';
import { GATEWAY_ID } from './gateway.ts';
import type { Site } from './cluster.ts';

const root = new URL('../../', import.meta.url).pathname;
const formats = loadFormats();

type Kind = 'SNAPSHOT' | 'DELTA';
interface Edit {
  /** The envelope rewritten: the gateway as receiver, this batch id, sequence and kind. */
  envelope(text: string, batchId: string, sequence: number, kind: Kind): string;
  /** The first VALID record's status set to `status` as of `date` (YYYY-MM-DD). */
  status(text: string, status: 'VALID' | 'SUSPENDED', date: string): string;
}

/** Sets attributes in the document's root start tag only. */
const rootAttributes = (text: string, values: Record<string, string>) =>
  text.replace(/<(?![?!])[^>]*>/, (tag) => Object.entries(values).reduce((t, [name, value]) => t.replace(new RegExp(`\\b${name}="[^"]*"`), `${name}="${value}"`), tag));
/** Sets the first occurrence of each JSON member (the envelope comes before the records in every sample). */
const jsonMembers = (text: string, values: Record<string, string | number>) =>
  Object.entries(values).reduce((t, [name, value]) => t.replace(new RegExp(`"${name}":\\s*("[^"]*"|\\d+)`), `"${name}": ${JSON.stringify(value)}`), text);
const jsonStatus = (dateMember: string) => (text: string, status: string, date: string) => text.replace(new RegExp(`"status": "VALID", "${dateMember}": "[^"]+"`), `"status": "${status}", "${dateMember}": "${date}"`);
const dmy = (date: string) => date.split('-').reverse().join('/');

const edits: Record<string, Edit> = {
  'eu-aeo': {
    envelope: (t, batchId, sequence, kind) => rootAttributes(t, { receiver: GATEWAY_ID, batchId, sequence: String(sequence), type: kind }),
    status: (t, status, date) => t.replace(/code="VALID" effectiveDate="[^"]+"/, `code="${status}" effectiveDate="${date}"`),
  },
  'mx-oea': {
    envelope: (t, batchId, sequence, kind) => rootAttributes(t, { receptor: GATEWAY_ID, folioLote: batchId, secuencia: String(sequence), tipo: kind === 'SNAPSHOT' ? 'COMPLETO' : 'INCREMENTAL' }),
    status: (t, status, date) => t.replace(/clave="VIGENTE" fecha="[^"]+"/, `clave="${status === 'VALID' ? 'VIGENTE' : 'SUSPENDIDO'}" fecha="${dmy(date)}"`),
  },
  'gb-aeo': { envelope: (t, batchId, sequence, kind) => jsonMembers(t, { id: batchId, sequence, type: kind }), status: jsonStatus('statusEffective') },
  'kr-aeo': { envelope: (t, batchId, sequence, kind) => jsonMembers(t, { batchId, seq: sequence, kind }), status: jsonStatus('statusDate') },
  'ca-pip': { envelope: (t, batchId, sequence, kind) => jsonMembers(t, { batchId, sequenceNumber: sequence, batchType: kind }), status: jsonStatus('statusDate') },
  'jp-aeo': {
    envelope: (t, batchId, sequence, kind) => t.replace(/^H,([^,]*),[^,]*,[^,]*,[^,]*,[^,]*,/, `H,$1,${GATEWAY_ID},${batchId},${sequence},${kind},`),
    status: (t, status, date) => t.replace(/,VALID,\d{4}-\d{2}-\d{2},/, `,${status},${date},`),
  },
};

export interface Document {
  partner: string;
  sequence: number;
  body: Buffer;
  contentType: string;
}

/** The partner's three documents, sequences 1..3. */
export function partnerDocuments(partner: Partner): Document[] {
  const dir = join(root, 'fixtures', partner.format, 'sample');
  const sample = readFileSync(join(dir, readdirSync(dir).find((f) => f.startsWith('input.'))!), 'utf8');
  const edit = edits[partner.format]!;
  const make = (sequence: number, kind: Kind, text: string): Document => ({
    partner: partner.id,
    sequence,
    body: Buffer.from(edit.envelope(text, `${partner.id}-US-SCALE-${sequence}`, sequence, kind)),
    contentType: formats.get(partner.format)!.mediaType,
  });
  return [make(1, 'SNAPSHOT', sample), make(2, 'DELTA', edit.status(sample, 'SUSPENDED', '2026-11-20')), make(3, 'DELTA', edit.status(sample, 'VALID', '2026-11-25'))];
}

/** What the load saw: every answer's status by kind of request. */
export interface LoadLog {
  documents: number[];
  lookups: number[];
  /** Requests sent again to another API after a connection-level failure. */
  resent: number;
  /** Documents answered so far. */
  answered: number;
}

export class Load {
  readonly log: LoadLog = { documents: [], lookups: [], resent: 0, answered: 0 };
  #next = 0;
  #waiting: { answered: number; resolve: () => void }[] = [];

  constructor(
    private readonly site: Site,
    private readonly apis: string[],
  ) {}

  /**
   * Sends the request to the next API in turn. A connection refused is always sent on to
   * the next API (nothing reached the dead one); any other connection-level failure only
   * when `idempotent`: a signed partner request is (same jti, same body), a staff action is not.
   */
  async send(path: string, init: RequestInit, idempotent: boolean): Promise<Response> {
    const first = this.#next++ % this.apis.length;
    for (let attempt = 0; ; attempt++) {
      const api = this.apis[(first + attempt) % this.apis.length]!;
      try {
        return await fetch(`${api}${path}`, init);
      } catch (error) {
        const code = (error as { cause?: { code?: string } }).cause?.code;
        if (attempt >= 6 || !(idempotent || code === 'ECONNREFUSED')) throw error;
        this.log.resent++;
        await new Promise((r) => setTimeout(r, 50 * attempt));
      }
    }
  }

  /**
   * Resolves as soon as `answered` documents are answered: in the turn of that answer,
   * before any other can arrive, so that a crash timed by it always comes mid-run.
   */
  whenAnswered(answered: number): Promise<void> {
    if (this.log.answered >= answered) return Promise.resolve();
    return new Promise((resolve) => this.#waiting.push({ answered, resolve }));
  }

  staff(path: string, body: string, contentType = 'application/json'): Promise<Response> {
    return this.send(path, { method: 'POST', body, headers: { Authorization: `Bearer ${this.site.staffToken}`, 'Content-Type': contentType } }, false);
  }

  /** One partner's documents in sequence order, each followed by look-ups of the partner's record keys. */
  async partner(partner: Partner, lookups: string[]): Promise<void> {
    for (const doc of partnerDocuments(partner)) {
      const signature = signRequest({ key: this.site.keys.get(partner.id)!, iss: partner.id, aud: GATEWAY_ID, method: 'POST', target: '/v1/exchanges', body: doc.body, jti: randomUUID() });
      const response = await this.send('/v1/exchanges', { method: 'POST', headers: { 'Content-Type': doc.contentType, 'JWS-Signature': signature }, body: doc.body }, true);
      this.log.documents.push(response.status);
      await response.arrayBuffer();
      this.log.answered++;
      const due = this.#waiting.filter((w) => w.answered <= this.log.answered);
      this.#waiting = this.#waiting.filter((w) => !due.includes(w));
      for (const w of due) w.resolve();
      for (const path of lookups) {
        const answer = await this.send(path, {}, true);
        this.log.lookups.push(answer.status);
        await answer.arrayBuffer();
      }
    }
  }
}

/** The status look-ups asked after each of the partner's documents: its sample's record keys, and a C-TPAT member it may hold. */
export function lookupPaths(partner: Partner): string[] {
  const [snapshot] = partnerDocuments(partner);
  const keys = readDocument(formats.get(partner.format)!, snapshot!.body).batch.records.map((r) => r.key);
  return [...keys.map((k) => `/v1/status/${partner.format}/${encodeURIComponent(k)}`), '/v1/status/ctpat/CT-0012345'];
}
