-- How many faults the exchange's rejected records have in all (issue 11): `rejections`
-- keeps only the first MAX_STORED_REJECTIONS (src/intake/rejections.ts), and the
-- read-back says the true number beside them. Null for rows written before, which kept
-- every fault: for those the count is the length of `rejections`.
alter table exchanges add column rejection_count integer;
