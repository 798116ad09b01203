/** `outbound-snapshot-mx`: C-TPAT members to a signed SNAPSHOT in MX's format, beside JSON.stringify of the same members. */
import { outboundScenario } from '../lib/outbound.ts';

export const scenario = outboundScenario('mx', import.meta.url);
