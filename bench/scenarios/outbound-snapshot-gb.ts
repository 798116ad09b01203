/** `outbound-snapshot-gb`: C-TPAT members to a signed SNAPSHOT in GB's format, beside JSON.stringify of the same members. */
import { outboundScenario } from '../lib/outbound.ts';

export const scenario = outboundScenario('gb', import.meta.url);
