-- The apply job reads a stored body back in pieces (issue 10: bounded memory, no long
-- block). A compressed value must be decompressed from its start for every piece, which
-- makes reading it in pieces quadratic; stored uncompressed (out of line, as TOAST does
-- for large values anyway), each piece reads only its own pages. Bodies stored before
-- this migration keep their compression and still read correctly.
alter table exchanges alter column body set storage external;
