/** Writing a document in stretches: the same text and problems as writing it at once, with the event loop served between stretches. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Operator } from '../../src/canonical/operator.ts';
import { loadFormats } from '../../src/translate/load-mappings.ts';
import { membersToPartnerBatch } from '../../src/translate/outbound.ts';
import { readDocument } from '../../src/translate/read-document.ts';
import { Cooperation, writeDocument, writeDocumentCooperatively } from '../../src/translate/write-document.ts';

const formats = loadFormats();
const sample = readDocument(formats.get('ctpat')!, readFileSync(new URL('../../fixtures/ctpat/sample/input.ndjson', import.meta.url))).batch.records;
// Many members, one of them a carrier without a SCAC, which CA cannot carry.
const many: Operator[] = Array.from({ length: 300 }, (_, i) => {
  const member = structuredClone(sample[i % 3]!);
  member.key = `CT-${String(i).padStart(7, '0')}`;
  member.identifier = { ...member.identifier, value: member.key };
  if (i === 151) delete (member as { carrier?: unknown }).carrier;
  return member;
});

describe.each(['ca-pip', 'eu-aeo', 'gb-aeo', 'jp-aeo', 'kr-aeo', 'mx-oea'])('writing %s in stretches', (id) => {
  const format = formats.get(id)!;
  const { batch } = membersToPartnerBatch(format, many, { gatewayId: 'US-CBP-TEST', sequence: 4, batchId: 'B4', asOf: '2026-11-30T02:00:00Z' });

  it('gives the bytes of the text and the problems of writing at once', async () => {
    const atOnce = writeDocument(format, batch);
    expect(atOnce.written).toBeGreaterThan(0);
    const { body, ...rest } = await writeDocumentCooperatively(format, batch, new Cooperation(0));
    expect({ ...rest, text: body.toString('utf8') }).toEqual(atOnce);
    expect(body.equals(Buffer.from(atOnce.text, 'utf8'))).toBe(true);
  });

  it('lets the event loop run between stretches', async () => {
    // A budget of 0 ms makes every record a stretch of its own; turns counts the loop's turns meanwhile.
    let turns = 0;
    let running = true;
    const spin = () => {
      turns++;
      if (running) setImmediate(spin);
    };
    setImmediate(spin);
    await writeDocumentCooperatively(format, batch, new Cooperation(0));
    running = false;
    expect(turns).toBeGreaterThanOrEqual(batch.records.length);
  });
});
