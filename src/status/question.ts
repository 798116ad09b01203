/**
 * One status question (PROTOCOL.md §5): the subject looked up through StatusLookup and
 * answered for the caller by answer.ts. A miss answers its look-up's stand-in too, and
 * that answer is signed and thrown away in place of one, so that a miss does a hit's work.
 */
import { answerForCtpat, answerForMid, answerForRecords, type StatusAnswer } from './answer.ts';
import type { Caller, StatusLookup, StatusRecord } from './lookup.ts';
import type { StatusScheme } from './schemes.ts';

export interface Answered {
  /** What the caller is told; undefined means 404. */
  answer: StatusAnswer | undefined;
  /** What is signed and serialised: the answer, or for a 404 a stand-in's, which no one is sent. */
  work: StatusAnswer;
}

/** Looks the subject up and decides what the caller is told, and what a miss works on in its place. */
export async function answerQuestion(lookup: StatusLookup, gatewayId: string, subject: { scheme: StatusScheme; id: string }, caller: Caller): Promise<Answered> {
  switch (subject.scheme) {
    case 'ctpat': {
      const found = await lookup.ctpatMember(subject.id);
      return answered(answerForCtpat(found.member, caller), () => answerForCtpat(found.standIn, caller), gatewayId);
    }
    case 'mid': {
      // Never answered to anonymous callers, so there is nothing to look up for them: every such answer is the same 404.
      if (caller.kind === 'anonymous') return answered(undefined, () => undefined, gatewayId);
      const found = await lookup.byMid(subject.id);
      return answered(answerForMid(subject.id, found.records, caller, gatewayId), () => standInAnswer(found.standIn, caller, gatewayId), gatewayId);
    }
    default: {
      const found = await lookup.byIdentifier(subject.scheme, subject.id);
      return answered(answerForRecords(subject, found.records, caller, gatewayId), () => standInAnswer(found.standIn, caller, gatewayId), gatewayId);
    }
  }
}

/** What a request that is not looked up at all (an id failing its syntax) signs and throws away. */
export function notLookedUp(gatewayId: string): Answered {
  return answered(undefined, () => undefined, gatewayId);
}

function answered(answer: StatusAnswer | undefined, standIn: () => StatusAnswer | undefined, gatewayId: string): Answered {
  if (answer !== undefined) return { answer, work: answer };
  // A stand-in the caller may not see, or none yet: claims of a typical answer's shape.
  const claims = standIn()?.claims ?? standInClaims(gatewayId);
  return { answer: undefined, work: { subject: structuredClone(claims), claims } };
}

/** The stand-in records answered under their own record id: a true assertion about them, never sent. */
function standInAnswer(records: StatusRecord[], caller: Caller, gatewayId: string): StatusAnswer | undefined {
  const [first] = records;
  return first && answerForRecords({ scheme: first.partner.format, id: first.held.key }, records, caller, gatewayId);
}

/** Claims shaped like a typical anonymous answer, for a miss with no stand-in. */
function standInClaims(gatewayId: string): Record<string, unknown> {
  return {
    sub: 'eori:DE000000000000000',
    programme: 'EU-AEO',
    status: 'active',
    statusEffective: '2000-01-01',
    recognitions: [{ authority: gatewayId, state: 'recognized', since: '2000-01-01' }],
  };
}
