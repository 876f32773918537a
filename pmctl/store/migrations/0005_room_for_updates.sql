-- Every open row is rewritten each minute (price, P&L, last_checked_at). Leaving
-- room on each page lets PostgreSQL update a row in place (a HOT update: no
-- index touched, no bloat to vacuum) since none of those columns is indexed.
-- Pages written from now on keep the room; existing ones gain it as they turn over.
ALTER TABLE active_positions SET (fillfactor = 60);
