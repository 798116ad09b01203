/** Public keys of the gateway that signed objects still kept: the JWKS serves them after rotation. */
import type { PublicJwk } from '../registry/partner.ts';
import type { Queryable } from './db.ts';

/** Records that `jwk` signed something (once per key). */
export async function rememberSigningKey(q: Queryable, jwk: PublicJwk): Promise<void> {
  await q.query('insert into signing_keys (kid, public_jwk) values ($1, $2) on conflict (kid) do nothing', [jwk.kid, JSON.stringify(jwk)]);
}

/** Every public key that signed something, oldest first. */
export async function retainedSigningKeys(q: Queryable): Promise<PublicJwk[]> {
  const { rows } = await q.query<{ public_jwk: PublicJwk }>('select public_jwk from signing_keys order by first_used_at');
  return rows.map((r) => r.public_jwk);
}
