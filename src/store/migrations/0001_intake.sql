-- Intake: what partners sent, what the gateway answered, and what is still to queue.

-- Per partner, the accepted sequence run (PROTOCOL §3): the sequence of the last
-- accepted SNAPSHOT, and the highest sequence up to which every batch since it was accepted.
create table partner_state (
  partner text primary key,
  snapshot_base bigint,
  run_end bigint,
  updated_at timestamptz not null default now()
);

-- The exchange log: raw body, signature header and receipt kept for non-repudiation.
create table exchanges (
  id uuid primary key,
  partner text not null,
  request_jti text not null,
  batch_id text not null,
  sequence bigint not null,
  kind text not null check (kind in ('SNAPSHOT', 'DELTA')),
  format text not null,
  content_type text not null,
  digest text not null,
  body bytea not null,
  signature_header text not null,
  received_at timestamptz not null,
  disposition text not null check (disposition in ('accepted', 'held', 'stale')),
  held_reason text check (held_reason in ('sequence-gap', 'no-snapshot-yet', 'sequence-jump')),
  state text not null check (state in ('received', 'processing', 'applied', 'held', 'stale', 'failed')),
  counts jsonb not null,
  rejections jsonb not null,
  receipt text not null,
  receipt_kid text not null,
  -- Only an accepted request uses up a jti, for as long as its exchange is kept.
  constraint exchanges_jti unique (partner, request_jti),
  constraint exchanges_batch unique (partner, batch_id)
);
create index exchanges_partner_sequence on exchanges (partner, sequence);

-- Jobs to put on the queue, written in the same transaction as what they are about, so
-- that neither a Redis outage nor a crash between commit and enqueue loses one.
create table outbox (
  id bigserial primary key,
  queue text not null,
  job text not null,
  job_id text not null unique,
  payload jsonb not null,
  created_at timestamptz not null default now(),
  relayed_at timestamptz
);
create index outbox_pending on outbox (id) where relayed_at is null;

-- Public keys of the gateway that signed something still kept, so the JWKS serves them.
create table signing_keys (
  kid text primary key,
  public_jwk jsonb not null,
  first_used_at timestamptz not null default now()
);
