-- A body is written in pieces of about 1 MiB inside the acceptance transaction (issue 10):
-- one bytea parameter of 57 MB made pg build a 57 MB Bind message in one go (a 125 ms
-- block, and one more copy of the body in memory). The first piece stays in
-- `exchanges.body`, so a small document (most of them) is still one row written by one
-- statement; the pieces after it live here, in order. Bodies stored before this
-- migration are whole in `exchanges.body`, with no pieces here, and read as before.
-- Retention removes both (`body` set null and these rows deleted).
create table exchange_body_pieces (
  exchange_id uuid not null references exchanges on delete cascade,
  piece int not null check (piece >= 1),
  bytes bytea not null,
  primary key (exchange_id, piece)
);
-- Uncompressed, as `exchanges.body` (migration 0010): pieces are read one by one, and a
-- compressed 1 MiB of XML would cost the server its compression on every acceptance.
alter table exchange_body_pieces alter column bytes set storage external;
