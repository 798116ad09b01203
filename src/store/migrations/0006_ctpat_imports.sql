-- Each C-TPAT import, so that the next one and staff can see what changed (issue 8).
create table ctpat_imports (
  id bigserial primary key,
  at timestamptz not null default now(),
  import_date date not null,
  actor text not null,
  -- Lines accepted and lines rejected.
  imported integer not null,
  rejected integer not null,
  added integer not null,
  changed integer not null,
  no_longer_sendable integer not null,
  removed integer not null,
  unchanged integer not null,
  -- Every account of each change (uncapped), and the rejected lines.
  summary jsonb not null
);

-- What the previous import held of a member, to compare exactly and to keep its previous
-- record: the digest of the canonical record (key-order independent), the record before
-- the last change, and the import that last changed it. imported_at now moves only when
-- the member changes: an unchanged member is not rewritten.
alter table ctpat_members add column digest text;
alter table ctpat_members add column previous_record jsonb;
alter table ctpat_members add column changed_by bigint references ctpat_imports (id);
