-- 004_roster.sql: what the nodes of a cluster share besides leases.
--
-- roster: the members spawned at run time (mobkitctl spawn) on any
-- node; every node has them in its tree (run where adoption puts them).
-- routes: the routes added at run time (mobkitctl route add).  A node
-- changing either NOTIFYs mobkit_roster; every node reads both again.
-- A node starting reads them before it joins.

CREATE TABLE mobkit.roster (
	member		text PRIMARY KEY,
	profile		text NOT NULL,
	created_by	text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE mobkit.routes (
	id		text PRIMARY KEY,
	recipient	text NOT NULL,
	channel		text NOT NULL,
	sink		text NOT NULL,
	target		text NOT NULL,
	retry_max	integer NOT NULL,
	backoff_ms	bigint NOT NULL,
	rate_limit	integer NOT NULL,
	created_by	text NOT NULL,
	added		bigserial
);

-- A node's roster changed while it runs (a reload, a spawn): its members
-- exist as rows, with their pins.  Unlike mobkit.join(), nothing this
-- node holds is taken again (its fences stay, its workers run on); a
-- member no longer configured here lets its lease go when it is gone.
CREATE FUNCTION mobkit.enlist(p_members text[], p_pins text[])
RETURNS void
LANGUAGE sql AS $$
	INSERT INTO mobkit.members AS m (member, pin)
	SELECT u.member, NULLIF(u.pin, '')
	FROM unnest(p_members, p_pins) AS u(member, pin)
	ON CONFLICT (member) DO UPDATE SET pin = excluded.pin
$$;
