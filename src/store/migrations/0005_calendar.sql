-- The MRA calendar (reconcile/mra-calendar.ts): benefits that end because the MRA ended,
-- is not in force, or its scope was narrowed in the registry are recorded on the day, with
-- no batch behind them. Such a feed entry has no exchange_id; `cause` says why instead.
alter table benefit_changes alter column exchange_id drop not null;
alter table benefit_changes add column cause text check (cause in ('mra-ended', 'mra-not-in-force', 'scope-narrowed'));
alter table benefit_changes add constraint benefit_changes_batch_or_cause check ((exchange_id is null) <> (cause is null));
-- A calendar end is written once, however often (and on however many workers) the job runs.
create unique index benefit_changes_calendar_once on benefit_changes (partner, record_key, mid, benefit, change, effective, cause) where exchange_id is null;
