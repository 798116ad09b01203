-- The digest of the record's JSON as the apply wrote it (SHA-256, base64url): a batch
-- that says the same of an operator again is found unchanged by comparing digests, so
-- the apply neither reads the held record back nor writes the operator, its MID links
-- and identifiers again (issue 10: "skips unchanged records"). Null for rows written
-- before, or whose record was not written from a partner's text (an omission keeps the
-- last record): those are compared record to record, as before.
alter table operators add column record_digest text;
