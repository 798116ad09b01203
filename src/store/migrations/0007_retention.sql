-- Retention (RETENTION_DAYS, jobs/retention.ts): the raw document of an exchange applied
-- long enough ago is removed; its digest, signature header and receipt stay, so what was
-- received and answered can still be proven. `document_removed_at` says when.
alter table exchanges add column applied_at timestamptz;
alter table exchanges add column document_removed_at timestamptz;
alter table exchanges alter column body drop not null;
alter table exchanges add constraint exchanges_body_or_removed check (body is not null or document_removed_at is not null);
-- Exchanges applied before this migration: received is the best time known.
update exchanges set applied_at = received_at where state = 'applied';
-- When an exchange becomes applied, whichever code marks it so.
create function exchanges_note_applied() returns trigger language plpgsql as $$ begin if new.state = 'applied' and new.applied_at is null then new.applied_at := now(); end if; return new; end $$;
create trigger exchanges_note_applied before insert or update of state on exchanges for each row execute function exchanges_note_applied();
-- The retention job's search: applied documents still held, oldest first.
create index exchanges_retention on exchanges (applied_at) where state = 'applied' and document_removed_at is null;
