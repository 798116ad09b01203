/** Staff and the C-TPAT import asking for outbound documents: each is a job, queued through the outbox in the caller's transaction. */
import { prepareJob, type PrepareOutboundPayload } from '../queue/jobs.ts';
import type { Partner } from '../registry/partner.ts';
import type { Queryable } from '../store/db.ts';
import { addToOutbox } from '../store/outbox.ts';

/** Queues the next document for each partner that takes deliveries; `reason` makes the job id (an import id, a staff action). */
export async function queueOutbound(tx: Queryable, partners: readonly Partner[], reason: string, payload: Omit<PrepareOutboundPayload, 'partner'> = {}): Promise<string[]> {
  const receiving = partners.filter((p) => p.delivery !== undefined && p.status !== 'suspended');
  for (const partner of receiving) await addToOutbox(tx, prepareJob({ partner: partner.id, ...payload }, reason));
  return receiving.map((p) => p.id);
}
