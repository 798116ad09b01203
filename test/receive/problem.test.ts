/** One error vocabulary (errors.ts), one way to answer it (toProblem): statuses, slugs, headers and §8 items. */
import { describe, expect, it } from 'vitest';
import { errorTable, GatewayError, type ErrorCode, type ErrorSpec } from '../../src/errors.ts';
import { toProblem } from '../../src/receive/problem.ts';
import { StoreUnavailableError } from '../../src/store/db.ts';

/** The slugs, statuses and titles answered before the vocabulary was one table: none of them may change. */
const answeredBefore = {
  'header-invalid': [401, 'Signature header invalid'],
  'unknown-key': [401, 'Unknown key'],
  'alg-not-allowed': [401, 'Algorithm not allowed'],
  'audience-mismatch': [401, 'Audience mismatch'],
  'htm-mismatch': [401, 'Method mismatch'],
  'htu-mismatch': [401, 'Target mismatch'],
  'iat-out-of-window': [401, 'Signature time out of window'],
  'signature-invalid': [401, 'Signature invalid'],
  'unauthorized': [401, 'Unauthorized'],
  'partner-suspended': [403, 'Partner suspended'],
  'forbidden': [403, 'Forbidden'],
  'not-found': [404, 'Not found'],
  'request-timeout': [408, 'Request timeout'],
  'jti-conflict': [409, 'Request id already used'],
  'duplicate-batch': [409, 'Batch already accepted'],
  'conflict': [409, 'Conflict'],
  'payload-too-large': [413, 'Payload too large'],
  'unsupported-media-type': [415, 'Unsupported media type'],
  'document-invalid': [422, 'Document invalid'],
  'rate-limited': [429, 'Too many requests'],
  'bad-request': [400, 'Bad request'],
  'busy': [503, 'Busy'],
  'unavailable': [503, 'Unavailable'],
} as const;

const codes = Object.keys(errorTable) as ErrorCode[];

describe('the error table', () => {
  it.each(Object.entries(answeredBefore))('answers %s with its status and title as before', (slug, [status, title]) => {
    const { body } = toProblem(new GatewayError(slug as ErrorCode, 'why'));
    expect(body).toEqual({ type: `urn:mra:problem:${slug}`, title, status, detail: 'why' });
  });

  it('gives every code that shares a slug the same status and title', () => {
    const bySlug = new Map<string, ErrorSpec>();
    for (const code of codes) {
      const spec: ErrorSpec = errorTable[code];
      if (spec.slug === null) continue;
      const first = bySlug.get(spec.slug) ?? spec;
      bySlug.set(spec.slug, first);
      expect([code, spec.status, spec.title]).toEqual([code, first.status, first.title]);
    }
  });

  it('says only of passing conditions that trying again may succeed', () => {
    expect(codes.filter((code) => errorTable[code].retryable).sort()).toEqual(
      ['busy', 'identity-provider-unavailable', 'internal', 'rate-limited', 'request-timeout', 'store-unavailable', 'unavailable'].sort(),
    );
    expect(new GatewayError('document-invalid', 'x').retryable).toBe(false);
    expect(new GatewayError('store-unavailable', 'x').retryable).toBe(true);
  });
});

describe('toProblem', () => {
  it('answers a 401 with the challenge of its credential: JWS-Signature, or Bearer for staff tokens', () => {
    expect(toProblem(new GatewayError('signature-invalid', 'x')).headers).toEqual({ 'WWW-Authenticate': 'JWS-Signature' });
    expect(toProblem(new GatewayError('bearer-token-missing', 'x')).headers).toEqual({ 'WWW-Authenticate': 'Bearer' });
    expect(toProblem(new GatewayError('bearer-token-invalid', 'x')).headers).toEqual({ 'WWW-Authenticate': 'Bearer error="invalid_token"' });
    expect(toProblem(new GatewayError('staff-api-closed', 'x')).body.type).toBe('urn:mra:problem:unauthorized');
  });

  it('says when to come back: the error\'s own time, else its code\'s, in whole seconds of at least 1', () => {
    expect(toProblem(new GatewayError('rate-limited', 'x', { retryAfterSeconds: 12.2 })).headers['Retry-After']).toBe('13');
    expect(toProblem(new GatewayError('rate-limited', 'x', { retryAfterSeconds: 0 })).headers['Retry-After']).toBe('1');
    expect(toProblem(new GatewayError('identity-provider-unavailable', 'x')).headers['Retry-After']).toBe('30');
    expect(toProblem(new GatewayError('busy', 'x')).headers['Retry-After']).toBe('1');
    expect(toProblem(new GatewayError('not-found', 'x')).headers).toEqual({});
  });

  it('lists issues as §8 items with JSON Pointers, at most 100, with the count and whether some were left out', () => {
    const issues = Array.from({ length: 150 }, (_, i) => ({ path: ['mids', i, 'a/b~c'], code: 'invalid_type', message: `bad ${i}` }));
    const { body } = toProblem(new GatewayError('bad-request', 'the body is wrong', { issues }));
    expect(body['errors']).toHaveLength(100);
    expect((body['errors'] as unknown[])[1]).toEqual({ index: null, key: null, pointer: '/mids/1/a~1b~0c', code: 'invalid_type', message: 'bad 1' });
    expect(body).toMatchObject({ errorCount: 150, truncated: true });
    const place = toProblem(new GatewayError('document-invalid', 'x', { issues: [{ path: [], pointer: '3:7', code: 'document-invalid', message: 'x' }] })).body;
    expect(place['errors']).toEqual([{ index: null, key: null, pointer: '3:7', code: 'document-invalid', message: 'x' }]);
  });

  it('answers anything else as a 500 internal without details, and a store that is down as a 503 to retry', () => {
    const secret = new Error('password=hunter2 at /srv/app.js:10');
    const detail = 'the gateway failed to answer this request; quote the requestId to its operators';
    expect(toProblem(secret)).toEqual({ status: 500, headers: {}, body: { type: 'urn:mra:problem:internal', title: 'Internal error', status: 500, detail } });
    expect(JSON.stringify(toProblem(new GatewayError('settings-invalid', 'DATABASE_URL: postgres://u:secret@h')).body)).not.toContain('secret');
    const down = toProblem(new StoreUnavailableError('the store is unreachable (ECONNREFUSED)'));
    expect(down).toMatchObject({ status: 503, headers: { 'Retry-After': '5' }, body: { type: 'urn:mra:problem:unavailable' } });
  });

  it('gives every 500 the internal type and the request id to quote, never the message of what failed', () => {
    const causes = [new Error('password=hunter2 at /srv/app.js:10'), new GatewayError('internal', 'row 7 of table signing_keys'), new GatewayError('settings-invalid', 'DATABASE_URL: postgres://u:secret@h'), 'a thrown string'];
    for (const cause of causes) {
      const { status, body } = toProblem(cause, 'req-42');
      expect(status).toBe(500);
      expect(body).toMatchObject({ type: 'urn:mra:problem:internal', title: 'Internal error', status: 500, requestId: 'req-42' });
      expect(JSON.stringify(body)).not.toMatch(/hunter2|app\.js|signing_keys|secret|thrown string/);
    }
    // A known code keeps its own answer; the request id goes only into the 500s.
    expect(toProblem(new GatewayError('not-found', 'x'), 'req-42').body).toEqual({ type: 'urn:mra:problem:not-found', title: 'Not found', status: 404, detail: 'x' });
  });
});
