-- 001_init.sql: mobkit's store in PostgreSQL, first version.
--
-- Everything lives in the schema "mobkit"; mobkitd applies the files of
-- supervisor/pg/schema/ in order, each in the one transaction that also
-- records it in mobkit.schema_version (which mobkitd creates first), and
-- refuses a database whose version is newer than the files it was built
-- with.  Times the nodes compare (leases) are the database's own
-- (timestamptz, now()); times mobkitd keeps for itself are wall-clock
-- milliseconds (bigint), as in the SQLite store.

-- What this database is: mobkitd refuses one whose application is not
-- "mobkit".
CREATE TABLE mobkit.meta (
	k	text PRIMARY KEY,
	v	text NOT NULL
);
INSERT INTO mobkit.meta (k, v) VALUES ('application', 'mobkit');

-- The nodes that use this database.  One row a node_id, written at start
-- (and on every retry of a failed store); the cluster step renews
-- last_seen with its leases and decides liveness from it.
CREATE TABLE mobkit.nodes (
	node_id		text PRIMARY KEY,
	host		text NOT NULL,
	pid		integer NOT NULL,
	lease_ms	integer NOT NULL,
	started_at	timestamptz NOT NULL DEFAULT now(),
	last_seen	timestamptz NOT NULL DEFAULT now()
);

-- A member's hold: which node runs it, until when, and its fencing token.
-- A node takes a member by raising fence (UPDATE ... SET fence = fence + 1,
-- node_id = $me, lease_until = now() + lease); every later write for the
-- member is made only while (node_id, fence) still match.  The single-node
-- store (one node per database, below) neither writes nor checks them yet.
CREATE TABLE mobkit.members (
	member		text PRIMARY KEY,
	node_id		text REFERENCES mobkit.nodes (node_id)
			    ON DELETE SET NULL,
	lease_until	timestamptz,
	fence		bigint NOT NULL DEFAULT 0
);
CREATE INDEX members_node ON mobkit.members (node_id);
CREATE INDEX members_lease ON mobkit.members (lease_until);

-- Every accepted input: queued (state 0; running is written as queued),
-- then finished (fin set, the wall ms it finished).  Keys are not unique
-- here: deduplication is the mailbox's, within the retention window.
CREATE TABLE mobkit.inputs (
	id		text PRIMARY KEY,
	member		text NOT NULL,
	seq		bigint NOT NULL,
	key		text,
	text		text NOT NULL,
	state		smallint NOT NULL,
	attempts	integer NOT NULL,
	accepted_ms	bigint,
	result		text,
	error		text,
	fin		bigint
);
CREATE INDEX inputs_pending ON mobkit.inputs (member, seq)
    WHERE fin IS NULL;
CREATE INDEX inputs_done ON mobkit.inputs (member, fin)
    WHERE fin IS NOT NULL;
CREATE INDEX inputs_fin ON mobkit.inputs (fin) WHERE fin IS NOT NULL;

-- The conversations: one row a completed turn (a JSON array of messages),
-- in order.  tid is the writer's own id of the append, so that a commit
-- whose outcome was lost (the connection dropped) can be written again
-- without doubling the turn.
CREATE TABLE mobkit.messages (
	seq		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	member		text NOT NULL,
	tid		text NOT NULL UNIQUE,
	data		text NOT NULL
);
CREATE INDEX messages_member ON mobkit.messages (member, seq);

-- The wired peers (undirected, a < b), written whole when they change.
CREATE TABLE mobkit.peers (
	a	text NOT NULL,
	b	text NOT NULL,
	PRIMARY KEY (a, b)
);

-- Schedule due times claimed: a claim is a row, never fired twice.
CREATE TABLE mobkit.claims (
	schedule	text NOT NULL,
	due_ms		bigint NOT NULL,
	PRIMARY KEY (schedule, due_ms)
);

-- Delivery records (msgpack), loaded back in the order last written.
CREATE SEQUENCE mobkit.deliveries_ord;
CREATE TABLE mobkit.deliveries (
	id	text PRIMARY KEY,
	record	bytea NOT NULL,
	ord	bigint NOT NULL DEFAULT nextval('mobkit.deliveries_ord')
);

-- Token usage per member, replaced whole.
CREATE TABLE mobkit.usage (
	member		text PRIMARY KEY,
	input_tokens	bigint NOT NULL,
	output_tokens	bigint NOT NULL,
	turns		bigint NOT NULL
);

-- One node per database until the cluster step: every connection of a
-- mobkitd takes this session lock first, in the transaction of its first
-- write, which fails (and so writes nothing) when another session holds it.
CREATE FUNCTION mobkit.single_node(k bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	IF NOT pg_try_advisory_lock(k) THEN
		RAISE EXCEPTION 'another mobkitd uses this database '
		    '(one node per database until clustering)';
	END IF;
END
$$;
