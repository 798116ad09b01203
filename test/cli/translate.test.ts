import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/run-cli.ts';

const fixture = (path: string) => new URL(`../../fixtures/${path}`, import.meta.url).pathname;
const euSample = fixture('eu-aeo/sample/input.xml');
const ctpatSample = fixture('ctpat/sample/input.ndjson');

describe('mragw translate', () => {
  it('writes canonical JSON of a partner document and exits 0', async () => {
    const result = await runCli(['translate', '--from', 'eu-aeo', '--to', 'canonical', euSample]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const batch = JSON.parse(result.stdout) as { envelope: { batchId: string }; records: { key: string; name: { legal: string } }[] };
    expect(batch.envelope.batchId).toBe('EU-US-20261127-01');
    expect(batch.records.map((r) => r.key)).toEqual(['DEAEOF0000123456', 'FRAEOS2011/0042', 'NLAEOC0000777']);
    expect(batch.records[0]!.name.legal).toBe('Müller Präzisionsteile GmbH & Co. KG');
  });

  it('reads standard input when no file is named', async () => {
    const result = await runCli(['translate', '--from', 'eu-aeo', '--to', 'canonical'], { stdin: readFileSync(euSample) });
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ format: 'eu-aeo' });
  });

  it('round-trips canonical back to the same partner format', async () => {
    const canonical = await runCli(['translate', '--from', 'gb-aeo', '--to', 'canonical', fixture('gb-aeo/sample/input.json')]);
    const back = await runCli(['translate', '--from', 'canonical', '--to', 'gb-aeo'], { stdin: canonical.stdout });
    expect(back.status).toBe(0);
    const again = await runCli(['translate', '--from', 'gb-aeo', '--to', 'canonical'], { stdin: back.stdout });
    expect(again.stdout).toBe(canonical.stdout);
  });

  it('normalises a document to its own format', async () => {
    const result = await runCli(['translate', '--from', 'mx-oea', '--to', 'mx-oea', fixture('mx-oea/sample/input.xml')]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('<LoteOEA xmlns="urn:mx:sat:oea:intercambio:1" emisor="MX"');
    expect(result.stdout).toContain('<RazonSocial>Transportes Ñandú &amp; Hijos</RazonSocial>');
  });

  it('writes C-TPAT members as a SNAPSHOT from GATEWAY_ID to the format partner, skipping ineligible members silently', async () => {
    const result = await runCli(['translate', '--from', 'ctpat', '--to', 'jp-aeo', '--sequence', '7', '--batch-id', 'US-JP-1', ctpatSample], { env: { GATEWAY_ID: 'US-CBP-TEST' } });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const lines = result.stdout.split('\r\n');
    expect(lines[0]).toMatch(/^H,US-CBP-TEST,JP,US-JP-1,7,SNAPSHOT,\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    // The applicant and the member without consent are not sent.
    expect(lines.filter((l) => l.startsWith('D,')).map((l) => l.split(',')[3])).toEqual(['US-CTPAT-CT-0012345', 'US-CTPAT-CT-0020001', 'US-CTPAT-CT-0030003']);
    expect(result.stdout.endsWith('T,3\r\n')).toBe(true);
  });

  it('lists a member that cannot be written (a carrier without a SCAC, for CA) and exits 1', async () => {
    const members = `${readFileSync(ctpatSample, 'utf8')}{"accountNumber":"CT-0060006","businessType":"RAIL_CARRIER","legalName":"Northern Rail LLC","address":{"street":"1 Yard Rd","city":"Duluth","state":"MN","postalCode":"55802","country":"US"},"status":"CERTIFIED","statusDate":"2020-01-01","certifiedOn":"2020-01-01","consentToShare":true,"identifiers":{"mids":[],"scac":null}}\n`;
    const result = await runCli(['translate', '--from', 'ctpat', '--to', 'ca-pip'], { stdin: members });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^<stdin>:carrierCode: record 3 \(key US-CTPAT-CT-0060006\) not written: carrierCode: a carrier needs a 4-character carrier code \(SCAC\) \[rule-violated\]\n$/);
    const written = JSON.parse(result.stdout) as { header: { recordCount: number }; members: { pipMemberId: string }[] };
    expect(written.header.recordCount).toBe(3);
    expect(written.members.map((m) => m.pipMemberId)).not.toContain('US-CTPAT-CT-0060006');
  });

  it('exits 1 and lists each rejected record by index, key, place and field, still writing the others', async () => {
    const doc = readFileSync(euSample, 'utf8').replace('<TIN scheme="EORI">FR12345678901</TIN>', '<TIN scheme="EORI">ZZ12345678901</TIN>');
    const viaStdin = await runCli(['translate', '--from', 'eu-aeo', '--to', 'canonical'], { stdin: doc });
    expect(viaStdin.status).toBe(1);
    expect(viaStdin.stderr).toMatch(/^<stdin>:\/AEOExchangeBatch\/Operator\[2\]\/TIN: record 1 \(key FRAEOS2011\/0042\) rejected: TIN: .+ \[invalid-identifier\]\n$/);
    expect((JSON.parse(viaStdin.stdout) as { records: unknown[] }).records).toHaveLength(2);
  });

  it('exits 2 naming the file, line and column of a document fault, and writes nothing', async () => {
    const doc = '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "b">]>\n<AEOExchangeBatch xmlns="urn:eu:taxud:mra:aeo:1"/>';
    const result = await runCli(['translate', '--from', 'eu-aeo', '--to', 'canonical'], { stdin: doc });
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^<stdin>:2:\d+: the document is invalid: a DOCTYPE is not allowed\n$/);
  });

  it('exits 2 for a file larger than --max-bytes', async () => {
    const result = await runCli(['translate', '--from', 'eu-aeo', '--to', 'canonical', '--max-bytes', '100', euSample]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('larger than 100 bytes');
  });

  it.each([
    [['translate', '--from', 'gb-aeo', '--to', 'eu-aeo'], /never from another partner's format/],
    [['translate', '--from', 'xx-aeo', '--to', 'canonical'], /unknown format "xx-aeo"/],
    [['translate', '--to', 'canonical'], /required option '--from <format>'/],
    [['translate', '--from', 'ctpat', '--to', 'eu-aeo', '--sequence', '0'], /must be a whole number/],
    [['translate', '--from', 'eu-aeo', '--to', 'canonical', '/nonexistent/file.xml'], /no such file/],
    [['frobnicate'], /unknown command/],
  ])('exits 64 on wrong usage: %j', async (argv, message) => {
    const result = await runCli(argv, { stdin: '' });
    expect(result.status).toBe(64);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /); // never a stack trace
  });

  it('refuses a canonical batch of another partner for a partner format', async () => {
    const canonical = await runCli(['translate', '--from', 'gb-aeo', '--to', 'canonical', fixture('gb-aeo/sample/input.json')]);
    const result = await runCli(['translate', '--from', 'canonical', '--to', 'eu-aeo'], { stdin: canonical.stdout });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('a canonical batch of gb-aeo cannot be written as eu-aeo');
  });

  it('rejects canonical records that fail the canonical schema, one by one', async () => {
    const canonical = JSON.parse((await runCli(['translate', '--from', 'gb-aeo', '--to', 'canonical', fixture('gb-aeo/sample/input.json')])).stdout) as { records: { status: { code: string } }[] };
    canonical.records[0]!.status.code = 'valid';
    const result = await runCli(['translate', '--from', 'canonical', '--to', 'gb-aeo'], { stdin: JSON.stringify(canonical) });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('/records/0/status/code: record 0 (key GBAEOS1234/19) rejected: status.code:');
  });

  it('runs as a real process with the exit status of the command', async () => {
    const exec = promisify(execFile);
    const cli = new URL('../../src/cli/mragw.ts', import.meta.url).pathname;
    const ok = await exec(process.execPath, ['--import', 'tsx', cli, 'translate', '--from', 'kr-aeo', '--to', 'canonical', fixture('kr-aeo/sample/input.json')]);
    expect(JSON.parse(ok.stdout)).toMatchObject({ format: 'kr-aeo', records: [{ key: 'KR-AEO-2011-00321' }] });
    await expect(exec(process.execPath, ['--import', 'tsx', cli, 'translate', '--from', 'kr-aeo'])).rejects.toMatchObject({ code: 64 });
  });
});
