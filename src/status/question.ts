/**
 * One status question (PROTOCOL.md §5): the subject looked up through StatusLookup and
 * answered for the caller by answer.ts. Undefined means 404.
 */
import { answerForCtpat, answerForMid, answerForRecords, type StatusAnswer } from './answer.ts';
import type { Caller, StatusLookup } from './lookup.ts';
import type { StatusScheme } from './schemes.ts';

/** Looks the subject up and decides what the caller is told; undefined when nothing (the caller may see) is found. */
export async function answerQuestion(lookup: StatusLookup, gatewayId: string, subject: { scheme: StatusScheme; id: string }, caller: Caller): Promise<StatusAnswer | undefined> {
  switch (subject.scheme) {
    case 'ctpat':
      return answerForCtpat(await lookup.ctpatMember(subject.id), caller);
    case 'mid':
      // Never answered to anonymous callers, so there is nothing to look up for them.
      return caller.kind === 'anonymous' ? undefined : answerForMid(subject.id, await lookup.byMid(subject.id), caller, gatewayId);
    default:
      return answerForRecords(subject, await lookup.byIdentifier(subject.scheme, subject.id), caller, gatewayId);
  }
}

/** Claims shaped like a typical anonymous answer: signed and thrown away for a miss, so a miss takes as long as a hit. */
export function standInClaims(gatewayId: string): Record<string, unknown> {
  return {
    sub: 'eori:DE000000000000000',
    programme: 'EU-AEO',
    status: 'active',
    statusEffective: '2000-01-01',
    recognitions: [{ authority: gatewayId, state: 'recognized', since: '2000-01-01' }],
  };
}
