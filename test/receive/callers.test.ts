/** Who is calling: the Authorization header read once for the edge, never echoed in a refusal. */
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.ts';
import { bearerToken, staffCaller } from '../../src/receive/callers.ts';
import { StaffAuth } from '../../src/staff/staff-auth.ts';

function refusal(read: () => unknown): GatewayError {
  try {
    read();
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError);
    return error as GatewayError;
  }
  throw new Error('not refused');
}

describe('bearerToken', () => {
  it('reads the JWT of "Bearer <JWT>", the scheme in any case', () => {
    expect(bearerToken('Bearer a.b.c')).toBe('a.b.c');
    expect(bearerToken('bearer  a.b.c ')).toBe('a.b.c');
  });

  it('refuses a missing header as missing, and a malformed one as invalid, never echoing it', () => {
    expect(refusal(() => bearerToken(undefined)).code).toBe('bearer-token-missing');
    expect(refusal(() => bearerToken('')).code).toBe('bearer-token-missing');
    for (const value of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer secret-opaque-token', `Bearer ${'a'.repeat(20000)}.b.c`]) {
      const error = refusal(() => bearerToken(value));
      expect(error.code).toBe('bearer-token-invalid');
      expect(error.message).not.toContain('secret-opaque-token');
    }
  });
});

describe('staffCaller', () => {
  it('says the staff API is closed when no identity provider is configured', async () => {
    const closed = await StaffAuth.create({});
    await expect(staffCaller(closed, 'Bearer a.b.c', ['reviewer'])).rejects.toMatchObject({ code: 'staff-api-closed' });
  });
});
