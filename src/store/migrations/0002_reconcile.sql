-- Reconciliation: what each partner said of each operator, the recognitions and
-- benefits that follow, the change feed, and what staff must look at.

-- The current state per partner record (reconcile/model.ts HeldOperator).
create table operators (
  partner text not null,
  record_key text not null,
  record jsonb not null,
  withdrawn_reason text check (withdrawn_reason in ('consent', 'snapshot-omission')),
  withdrawn_since date,
  recognition_state text not null check (recognition_state in ('recognized', 'suspended', 'revoked', 'withdrawn', 'out-of-scope')),
  recognition_since date not null,
  recognition_exchange uuid not null,
  benefits jsonb not null,
  current_mids text[] not null,
  last_exchange uuid not null,
  last_sequence bigint not null,
  updated_at timestamptz not null default now(),
  primary key (partner, record_key)
);

-- Every identifier a status question may use, normalised as PROTOCOL §5 says.
create table operator_identifiers (
  scheme text not null,
  value text not null,
  partner text not null,
  record_key text not null,
  primary key (scheme, value, partner, record_key)
);
create index operator_identifiers_record on operator_identifiers (partner, record_key);

-- What each partner said, batch by batch (append-only).
create table operator_versions (
  id bigserial primary key,
  partner text not null,
  record_key text not null,
  exchange_id uuid not null,
  sequence bigint not null,
  change text not null check (change in ('created', 'changed', 'unchanged', 'withdrawn', 'kept')),
  record jsonb not null,
  recorded_at timestamptz not null default now(),
  unique (partner, record_key, exchange_id)
);

-- Current MID links.
create table mid_links (
  mid text not null,
  partner text not null,
  record_key text not null,
  primary key (mid, partner, record_key)
);
create index mid_links_record on mid_links (partner, record_key);

-- The benefit change feed: append-only, its id the cursor a targeting system follows.
-- The unique key makes a replayed batch add nothing.
create table benefit_changes (
  id bigserial primary key,
  mid text not null,
  partner text not null,
  record_key text not null,
  benefit text not null,
  change text not null check (change in ('start', 'end')),
  effective date not null,
  exchange_id uuid not null,
  recorded_at timestamptz not null default now(),
  unique (exchange_id, mid, partner, record_key, benefit, change)
);

-- What staff must look at; never resolved silently.
create table discrepancies (
  id bigserial primary key,
  kind text not null,
  partner text not null,
  record_key text,
  mid text,
  detail jsonb not null,
  dedupe_key text not null,
  state text not null default 'open' check (state in ('open', 'accepted', 'overridden', 'dismissed')),
  opened_exchange uuid not null,
  opened_at timestamptz not null default now(),
  decided_by text,
  decided_at timestamptz,
  decision_reason text
);
create unique index discrepancies_one_open on discrepancies (dedupe_key) where state = 'open';
create index discrepancies_state on discrepancies (state, id);

-- Who did what, when and why (staff decisions, releases, imports).
create table audit_log (
  id bigserial primary key,
  at timestamptz not null default now(),
  actor text not null,
  action text not null,
  subject text not null,
  detail jsonb not null
);

-- C-TPAT members, from the last import of the C-TPAT export.
create table ctpat_members (
  account text primary key,
  record jsonb not null,
  status text not null,
  consent boolean not null,
  mids text[] not null,
  imported_at timestamptz not null default now()
);
create table ctpat_mids (
  mid text not null,
  account text not null,
  primary key (mid, account)
);
