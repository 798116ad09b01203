-- One id per store of record: processes sharing a store share it, so that by default
-- gateways with separate stores never share queues on one Redis.
create table gateway_instance (
  id text primary key,
  created_at timestamptz not null default now()
);
insert into gateway_instance (id) values (md5(random()::text || clock_timestamp()::text));
