/** Receipts (PROTOCOL §4): compact JWS, typ `mra-receipt+jwt`, signed with the gateway's current key. */
import { createHash, randomUUID } from 'node:crypto';
import { decodeProtectedHeader } from 'jose';
import type { PublicJwk } from '../registry/partner.ts';

export const RECEIPT_TYP = 'mra-receipt+jwt';

/** The body digest a receipt carries: `sha-256=` + standard base64 (with padding) of the body's SHA-256, the same on both ends of an exchange. */
export function bodyDigest(body: Uint8Array): string {
  return bodyDigester().update(body).digest();
}

/** The same digest taken piece by piece, as a body arrives. */
export function bodyDigester() {
  const hash = createHash('sha256');
  const digester = {
    update(piece: Uint8Array) {
      hash.update(piece);
      return digester;
    },
    digest: () => `sha-256=${hash.digest('base64')}`,
  };
  return digester;
}

export interface ReceiptClaims {
  aud: string;
  exchangeId: string;
  requestJti: string;
  batchId: string;
  digest: string;
  receivedAt: string;
  kind: 'SNAPSHOT' | 'DELTA';
  sequence: number;
  recordCount: number;
  disposition: 'accepted' | 'held' | 'stale';
  heldReason?: 'sequence-gap' | 'no-snapshot-yet' | 'sequence-jump';
}

export interface ReceiptSigner {
  /** Signs a receipt; returns it with the public key that signed it (kept for the JWKS). */
  sign(claims: ReceiptClaims): Promise<{ token: string; key: PublicJwk }>;
}

/** What the gateway's key holder offers: the current public key and a compact signer. */
export interface GatewaySigner {
  sign(typ: string, payload: Record<string, unknown>): Promise<string>;
  jwks(): { keys: PublicJwk[] };
}

/** A receipt signer over the gateway's keys, stamping `iss`, `iat` and a receipt id. */
export function receiptSigner(keys: GatewaySigner, gatewayId: string, nowSeconds: () => number = () => Math.floor(Date.now() / 1000)): ReceiptSigner {
  return {
    async sign(claims) {
      const token = await keys.sign(RECEIPT_TYP, { iss: gatewayId, iat: nowSeconds(), jti: randomUUID(), ...claims });
      // The key named in the token itself: at a rotation instant "current" may already be another one.
      const kid = decodeProtectedHeader(token).kid;
      const key = keys.jwks().keys.find((k) => k.kid === kid);
      if (!key) throw new Error(`the key ${kid} that signed the receipt is not among the gateway keys`);
      return { token, key };
    },
  };
}
