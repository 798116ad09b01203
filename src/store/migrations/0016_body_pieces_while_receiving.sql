-- A large body's pieces are written while it arrives (src/intake/stage-body.ts), under
-- the id its exchange will have, before the exchange row exists: so no foreign key. A
-- body that is not accepted has its pieces removed at once; what a crash leaves behind
-- (pieces of no exchange) the retention job removes once they are a day old.
alter table exchange_body_pieces drop constraint if exists exchange_body_pieces_exchange_id_fkey;
alter table exchange_body_pieces add column written_at timestamptz not null default now();
