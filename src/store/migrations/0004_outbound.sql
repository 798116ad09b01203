-- Outbound delivery (PROTOCOL §7): C-TPAT members sent to each partner, as signed
-- documents, one sequence per partner without gaps, every attempt recorded.

-- Per partner: the last outbound sequence used, and the circuit breaker shared by all workers.
create table outbound_state (
  partner text primary key,
  last_sequence bigint not null default 0,
  snapshot_sent boolean not null default false,
  consecutive_failures integer not null default 0,
  breaker_open_until timestamptz
);

-- What each partner has been told of each member: the digest of the record as last
-- sent, so that the next DELTA carries exactly what changed for that partner.
create table outbound_members (
  partner text not null,
  account text not null,
  digest text not null,
  withdrawn boolean not null default false,
  sequence bigint not null,
  primary key (partner, account)
);

-- Each outbound document, stored with its signature before the first attempt.
create table deliveries (
  id uuid primary key,
  partner text not null,
  sequence bigint not null,
  batch_id text not null,
  kind text not null check (kind in ('SNAPSHOT', 'DELTA')),
  jti text not null,
  content_type text not null,
  body bytea not null,
  digest text not null,
  signature_header text not null,
  record_count integer not null,
  -- The members it carries: account and whether as recognizable (VALID) or withdrawn.
  members jsonb not null,
  state text not null default 'pending' check (state in ('pending', 'delivered', 'dead', 'skipped')),
  created_at timestamptz not null default now(),
  delivered_at timestamptz,
  receipt text,
  disposition text check (disposition in ('accepted', 'held', 'stale')),
  held_reason text,
  partner_exchange_id text,
  last_error text,
  -- A skip's fresh SNAPSHOT names the dead document it replaces, under the same sequence.
  replaces uuid references deliveries (id),
  unique (partner, batch_id)
);
-- One live document per sequence: a skipped one gives its number to its replacement.
create unique index deliveries_one_per_sequence on deliveries (partner, sequence) where state <> 'skipped';
create index deliveries_pending on deliveries (partner, sequence) where state in ('pending', 'dead');

create table delivery_attempts (
  id bigserial primary key,
  delivery_id uuid not null references deliveries (id),
  at timestamptz not null default now(),
  outcome text not null check (outcome in ('delivered', 'retry', 'dead')),
  status integer,
  duration_ms integer not null,
  error text,
  receipt text
);
create index delivery_attempts_delivery on delivery_attempts (delivery_id, id);

-- Which partners hold a U.S. member, from verified receipts (PROTOCOL §5 for ctpat status).
create table ctpat_recognitions (
  account text not null,
  partner text not null,
  state text not null check (state in ('recognized', 'withdrawn')),
  since date not null,
  delivery_id uuid not null references deliveries (id),
  primary key (account, partner)
);
