/**
 * Property-based round trips: generated batches, written in each format and read back,
 * are the same batch. Names and addresses are drawn from all of Unicode (less what the
 * formats forbid), so escaping, quoting and verbatim text are tested on what no one
 * would think to type.
 */
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Batch, Envelope } from '../../src/canonical/batch.ts';
import type { Operator, StatusCode } from '../../src/canonical/operator.ts';
import { loadFormats } from '../../src/translate/load-mappings.ts';
import { readDocument } from '../../src/translate/read-document.ts';
import { writeDocument } from '../../src/translate/write-document.ts';

const formats = loadFormats();

function sampleRecords(id: string): Operator[] {
  const dir = new URL(`../../fixtures/${id}/sample/`, import.meta.url);
  const input = readdirSync(dir).find((f) => f.startsWith('input.'))!;
  return readDocument(formats.get(id)!, readFileSync(new URL(input, dir))).batch.records;
}

// Text any format must carry verbatim: no C0 controls but TAB/LF/CR, no DEL, nothing XML 1.0 forbids.
// eslint-disable-next-line no-control-regex -- these are the characters being excluded
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\uFFFE\uFFFF]/u;
const text = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter((s) => !FORBIDDEN.test(s) && Buffer.from(s, 'utf8').toString('utf8') === s);
const tricky = fc.constantFrom('Müller & Söhne <GmbH>', '"Quoted", Inc.', 'a|b', 'line\r\nbreak', 'lone\nfeed', 'lone\rreturn', 'tab\there', ' spaced ', '株式会社さくら', '한일정밀', "O'Brien's", '=1+2', '01067');
const anyText = fc.oneof(text, tricky);
const date = fc.date({ min: new Date('1990-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
const status = fc.constantFrom<StatusCode>('active', 'suspended', 'revoked');
const midChars = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789');
const mid = fc.tuple(fc.constantFrom('DE', 'FR', 'JP', 'KR', 'MX', 'GB', 'XO', 'XQ'), fc.array(midChars, { minLength: 1, maxLength: 13 })).map(([c, rest]) => c + rest.join(''));

function timestamp(id: string) {
  const instant = fc.date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true });
  if (id === 'mx-oea') {
    // MX writes its own local time (UTC−06:00) to the second: only such timestamps survive unchanged.
    return instant.map((d) => new Date(Math.floor(d.getTime() / 1000) * 1000 - 6 * 3600_000).toISOString().replace(/\.\d{3}Z$/, '-06:00'));
  }
  return fc.tuple(instant, fc.constantFrom('Z', '+09:00', '-05:30', '+00:00'), fc.integer({ min: 0, max: 3 })).map(([d, offset, digits]) => {
    const iso = d.toISOString();
    return `${iso.slice(0, 19)}${digits > 0 ? iso.slice(19, 20 + digits) : ''}${offset}`;
  });
}

function batchArbitrary(id: string): fc.Arbitrary<Batch> {
  const bases = sampleRecords(id);
  const record = (i: number) =>
    fc.record({ base: fc.constantFrom(...bases), name: anyText, street: anyText, city: anyText, status, effective: date, mids: fc.uniqueArray(mid, { maxLength: 3 }), local: fc.option(anyText, { nil: undefined }) }).map((r): Operator => {
      const out = structuredClone(r.base);
      out.key = `${out.key}${i}`;
      out.name.legal = r.name;
      if (out.name.local !== undefined || ['jp-aeo', 'kr-aeo'].includes(id)) {
        if (r.local === undefined) delete out.name.local;
        else out.name.local = r.local;
      }
      if (out.address) Object.assign(out.address, { street: r.street, city: r.city });
      out.status = { ...out.status, code: r.status, effective: r.effective };
      const carrier = out.carrier?.code !== undefined;
      if (!carrier) out.mids = r.mids.map((m) => (id === 'gb-aeo' ? { mid: m, validFrom: r.effective } : { mid: m }));
      return out;
    });
  const envelope = fc.record({ sequence: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), kind: fc.constantFrom('SNAPSHOT', 'DELTA') as fc.Arbitrary<'SNAPSHOT' | 'DELTA'>, asOf: timestamp(id), batchId: fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/) });
  return fc.tuple(fc.integer({ min: 0, max: 4 }), envelope).chain(([n, env]) =>
    fc.tuple(...Array.from({ length: n }, (_, i) => record(i))).map((records): Batch => {
      const full: Envelope = { ...env, count: records.length, sender: 'XX', receiver: 'US-CBP-DEV' };
      const { sender, receiver, ...plain } = full;
      const hasParties = formats.get(id)!.envelopeFields.some((f) => f.canonical[0] === 'sender');
      return { format: id, envelope: hasParties ? { ...plain, sender, receiver } : plain, records };
    }),
  );
}

describe.each(['eu-aeo', 'gb-aeo', 'jp-aeo', 'kr-aeo', 'ca-pip', 'mx-oea'])('%s round trip over generated batches', (id) => {
  const format = formats.get(id)!;
  it('canonical → format → canonical gives the same batch', () => {
    fc.assert(
      fc.property(batchArbitrary(id), (batch) => {
        const written = writeDocument(format, batch);
        expect(written.problems).toEqual([]);
        const read = readDocument(format, written.text);
        expect(read.rejections).toEqual([]);
        expect(read.batch).toEqual(batch);
      }),
      { numRuns: 150 },
    );
  });
});

describe('ctpat round trip over generated members', () => {
  const format = formats.get('ctpat')!;
  it('canonical → NDJSON → canonical gives the same members', () => {
    const bases = sampleRecords('ctpat');
    const member = (i: number) =>
      fc.record({ base: fc.constantFrom(...bases), name: anyText, dba: fc.option(anyText, { nil: undefined }) }).map(({ base, name, dba }) => {
        const out = structuredClone(base);
        out.key = out.identifier.value = `${out.key}${i}`;
        out.name = dba === undefined ? { legal: name } : { legal: name, trading: dba };
        return out;
      });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => member(i)))), (records) => {
        const written = writeDocument(format, { records });
        const read = readDocument(format, written.text);
        expect(read.rejections).toEqual([]);
        expect(read.batch.records).toEqual(records);
      }),
      { numRuns: 150 },
    );
  });
});
