/** `outbound-snapshot-eu`: C-TPAT members to a signed SNAPSHOT in EU's format, beside JSON.stringify of the same members. */
import { outboundScenario } from '../lib/outbound.ts';

export const scenario = outboundScenario('eu', import.meta.url);
