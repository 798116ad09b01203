-- The batches of a partner not yet applied (or failed, or held) are few, while its
-- exchanges grow by one per batch for as long as it sends. Every apply asks whether an
-- earlier batch is still to apply, and every acceptance lists the held ones: through
-- (partner, sequence) both read every earlier exchange of the partner, so each batch
-- cost more than the one before (small-exchanges fell from 272 to 191 acceptances a
-- second over five rounds of two seconds). This index holds only the pending ones.
create index exchanges_pending on exchanges (partner, sequence) where state in ('received', 'processing', 'failed', 'held');
