/** PROTOCOL.md §3: Content-Type on type/subtype, charset utf-8 only, no content coding. */
import { describe, expect, it } from 'vitest';
import { mediaTypeAccepted } from '../../src/verify/media-type.ts';

const xml = 'application/xml';

describe('mediaTypeAccepted', () => {
  it.each([
    'application/xml',
    'APPLICATION/XML',
    'Application/Xml; charset=utf-8',
    'application/xml;charset=UTF-8',
    'application/xml ; charset="utf-8"',
    'application/xml; charset="UTF-8" ',
    'application/xml; version=1',
    'application/xml;',
    '  application/xml  ',
  ])('accepts %j', (contentType) => {
    expect(mediaTypeAccepted(contentType, undefined, xml)).toBe(true);
  });

  it.each([
    ['a missing Content-Type', undefined],
    ['another type', 'application/json'],
    ['a structured-syntax cousin', 'application/atom+xml'],
    ['a type only', 'application'],
    ['a missing subtype', 'application/'],
    ['charset iso-8859-1', 'application/xml; charset=iso-8859-1'],
    ['charset utf8 without the dash', 'application/xml; charset=utf8'],
    ['charset utf-16', 'application/xml; charset="utf-16"'],
    ['two charsets', 'application/xml; charset=utf-8; charset=iso-8859-1'],
    ['a parameter without a value', 'application/xml; charset'],
    ['an unterminated quoted value', 'application/xml; charset="utf-8'],
    ['trailing text', 'application/xml text'],
    ['a list of types', 'application/xml, text/xml'],
  ])('refuses %s', (_what, contentType) => {
    expect(mediaTypeAccepted(contentType, undefined, xml)).toBe(false);
  });

  it('accepts no Content-Encoding or identity', () => {
    expect(mediaTypeAccepted(xml, undefined, xml)).toBe(true);
    expect(mediaTypeAccepted(xml, 'identity', xml)).toBe(true);
    expect(mediaTypeAccepted(xml, ' Identity ', xml)).toBe(true);
  });

  it.each(['gzip', 'br', 'deflate', 'identity, gzip', 'x-gzip'])('refuses Content-Encoding %j', (encoding) => {
    expect(mediaTypeAccepted(xml, encoding, xml)).toBe(false);
  });

  it('compares against the expected type whatever its case', () => {
    expect(mediaTypeAccepted('text/csv; charset=utf-8', undefined, 'TEXT/CSV')).toBe(true);
    expect(mediaTypeAccepted('application/json', undefined, 'application/x-ndjson')).toBe(false);
  });
});
