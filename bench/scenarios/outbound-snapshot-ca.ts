/** `outbound-snapshot-ca`: C-TPAT members to a signed SNAPSHOT in CA's format, beside JSON.stringify of the same members. */
import { outboundScenario } from '../lib/outbound.ts';

export const scenario = outboundScenario('ca', import.meta.url);
