/**
 * The gateway's current key in the shape the request signer takes (src/sign/), so that
 * a delivery (PROTOCOL.md §7) is signed by exactly the code that signs `mragw send`:
 * one header builder, one algorithm table, whichever direction a request goes.
 */
import type { JsonWebKey } from 'node:crypto';
import type { GatewayKey } from '../keys/gateway-keys.ts';
import type { SigningKey } from '../sign/request-signature.ts';

/** What a delivery needs of the gateway's keys: the one that signs now (GatewayKeys has it). */
export interface CurrentKeySource {
  current(): GatewayKey;
}

// One export per key object: the signer caches its import by the JWK object, so handing
// it the same object each time keeps a rotation-free run from re-importing the key.
const exported = new WeakMap<GatewayKey, SigningKey>();

/** A function giving the gateway's current key as a SigningKey, asked afresh at each attempt so a rotation takes effect at once. */
export function gatewaySigningKey(keys: CurrentKeySource): () => SigningKey {
  return () => {
    const key = keys.current();
    let signing = exported.get(key);
    if (signing === undefined) {
      const jwk: JsonWebKey = key.privateKey.export({ format: 'jwk' });
      signing = { privateJwk: { ...jwk, kid: key.kid }, alg: key.alg };
      exported.set(key, signing);
    }
    return signing;
  };
}
