-- The staff surfaces (issue 9).

-- The audit log is never rewritten: no update, delete or truncate, whoever asks.
create function audit_log_is_append_only() returns trigger language plpgsql as $$ begin raise exception 'the audit log is append-only'; end $$;
create trigger audit_log_no_change before update or delete on audit_log for each row execute function audit_log_is_append_only();
create trigger audit_log_no_truncate before truncate on audit_log for each statement execute function audit_log_is_append_only();
create index audit_log_actor on audit_log (actor, id);
create index audit_log_action on audit_log (action, id);
create index audit_log_subject on audit_log (subject, id);

-- Which of the partner's keys signed each document, for the age and last use of each key.
alter table exchanges add column signing_kid text;
create index exchanges_partner_kid on exchanges (partner, signing_kid, received_at);
create index exchanges_received on exchanges (received_at desc, id desc);
create index exchanges_partner_received on exchanges (partner, received_at desc, id desc);

-- Recognitions by state and by MID.
create index operators_state on operators (recognition_state, partner, record_key);
create index operators_mids on operators using gin (current_mids);
