/** A registry entry for unit tests: a valid partner with the MRA terms a test needs and no keys. */
import { PartnerEntry, type Partner } from '../../src/registry/partner.ts';

export function testPartner(id: string, mra: Record<string, unknown> = {}, format = 'eu-aeo'): Partner {
  return PartnerEntry.parse({ id, name: id, programme: `${id}-AEO`, format, mra, keys: { algorithms: ['ES256'], jwks: { keys: [] } } });
}
