-- Status answers are cached by each API process until what they were read from changes
-- (issue 10). Every statement that changes it notifies `mragw_status`; PostgreSQL
-- delivers a notification only when its transaction commits, and folds repeats within one.
create function notify_status_change() returns trigger language plpgsql as $$ begin perform pg_notify('mragw_status', ''); return null; end $$;
create trigger operators_status_change after insert or update or delete or truncate on operators for each statement execute function notify_status_change();
create trigger operator_identifiers_status_change after insert or update or delete or truncate on operator_identifiers for each statement execute function notify_status_change();
create trigger mid_links_status_change after insert or update or delete or truncate on mid_links for each statement execute function notify_status_change();
create trigger ctpat_members_status_change after insert or update or delete or truncate on ctpat_members for each statement execute function notify_status_change();
create trigger ctpat_mids_status_change after insert or update or delete or truncate on ctpat_mids for each statement execute function notify_status_change();
create trigger ctpat_recognitions_status_change after insert or update or delete or truncate on ctpat_recognitions for each statement execute function notify_status_change();
