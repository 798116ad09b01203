/**
 * The gateway seen from a partner's inbox: one sender, the gateway, whose keys come
 * only from its published JWKS (PROTOCOL.md §4), so that src/verify checks a delivery
 * exactly as the gateway checks a partner's request, with the roles swapped.
 */
import { PartnerEntry, type Partner, type PartnerDirectory, type PublicJwk } from '../registry/partner.ts';
import { RemoteKeySet } from '../registry/remote-keys.ts';

/** Where the gateway's keys come from: its JWKS URL (fetched, cached, refetched on an unknown kid) or a JWKS held locally. */
export type GatewayKeySource = { jwksUri: string } | { jwks: { keys: PublicJwk[] } };

/** A directory holding only the gateway, its algorithms those the gateway signs with (§4). */
export function gatewayDirectory(gatewayId: string, format: string, source: GatewayKeySource, options: { fetch?: typeof fetch; now?: () => number } = {}): PartnerDirectory {
  const gateway: Partner = PartnerEntry.parse({
    id: gatewayId,
    name: 'MRA gateway',
    programme: 'C-TPAT',
    format,
    keys: { algorithms: ['ES256', 'EdDSA', 'PS256'], ...source },
  });
  const remote = 'jwksUri' in source ? new RemoteKeySet(source.jwksUri, options) : undefined;
  return {
    partner: (id) => (id === gatewayId ? gateway : undefined),
    async key(id, kid) {
      if (id !== gatewayId) return undefined;
      if (remote !== undefined) return remote.key(kid);
      // One key per kid, as the gateway's own verifier wants (FIELD-NOTES, createLocalJWKSet).
      const matches = gateway.keys.jwks?.keys.filter((jwk) => jwk.kid === kid) ?? [];
      return matches.length === 1 ? matches[0] : undefined;
    },
  };
}
