/** `outbound-snapshot-kr`: C-TPAT members to a signed SNAPSHOT in KR's format, beside JSON.stringify of the same members. */
import { outboundScenario } from '../lib/outbound.ts';

export const scenario = outboundScenario('kr', import.meta.url);
