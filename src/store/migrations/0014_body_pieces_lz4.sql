-- Body pieces compressed with lz4 where the server has it. Pieces are read whole (never
-- by substring, see 0010), so compression costs no quadratic reads. On the PostgreSQL 15
-- of the CI machine, storing the 57 pieces of a 57 MB EU SNAPSHOT in one transaction took
-- 194-224 ms compressed against 403-456 ms uncompressed, and 2 MiB of table against 57
-- (a synthetic document; real ones compress less, but XML and JSON compress well). pglz,
-- the only method of a server built without lz4 (the embedded one), was slower than no
-- compression (599-636 ms against 377-563 ms): there the pieces stay uncompressed.
do $$
begin
  alter table exchange_body_pieces alter column bytes set storage extended;
  alter table exchange_body_pieces alter column bytes set compression lz4;
exception when feature_not_supported then
  alter table exchange_body_pieces alter column bytes set storage external;
end $$;
