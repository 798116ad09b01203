import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bodyDigest, bodyDigester } from '../../src/intake/receipt.ts';

describe('the body digest taken as the body arrives', () => {
  it('equals the digest of the whole body, wherever the pieces are cut', () => {
    const body = randomBytes(200_000);
    for (const size of [1, 7, 65_536, body.length]) {
      const digester = bodyDigester();
      for (let at = 0; at < body.length; at += size) digester.update(body.subarray(at, at + size));
      expect(digester.digest()).toBe(bodyDigest(body));
    }
    expect(bodyDigest(body)).toMatch(/^sha-256=[A-Za-z0-9+/]{43}=$/);
  });
});
