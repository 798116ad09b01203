/** `outbound-snapshot-jp`: C-TPAT members to a signed SNAPSHOT in JP's format, beside JSON.stringify of the same members. */
import { outboundScenario } from '../lib/outbound.ts';

export const scenario = outboundScenario('jp', import.meta.url);
