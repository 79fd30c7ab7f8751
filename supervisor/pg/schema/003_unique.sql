-- 003_unique.sql: a schedule's due time and a delivery's key, once in the
-- whole cluster.
--
-- Every node runs the scheduler and the delivery module.  A due time is
-- fired, and a keyed delivery made, only by the node whose row went in
-- first: the others learn which node holds it and skip it.  Each call is
-- one statement on the cluster's own connection (pgq), answered to the
-- loop; nothing waits on a lock another node holds for long (the row's
-- unique index decides, ON CONFLICT DO NOTHING).

-- The node that fired a claim (NULL: written by a node of before this
-- version, or by the store's batch of a single node).
ALTER TABLE mobkit.claims ADD COLUMN node_id text;

-- Claim a schedule's due time: answers the node that fired it, p_node
-- when this node won it (or had won it before: a retry).
CREATE FUNCTION mobkit.claim(p_schedule text, p_due bigint, p_node text)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	held text;
BEGIN
	INSERT INTO mobkit.claims AS c (schedule, due_ms, node_id)
	VALUES (p_schedule, p_due, p_node)
	ON CONFLICT DO NOTHING;
	SELECT coalesce(c.node_id, '') INTO held FROM mobkit.claims c
	    WHERE c.schedule = p_schedule AND c.due_ms = p_due;
	RETURN held;
END
$$;

-- A delivery's idempotency key (recipient, sink and key, tab-separated),
-- held by the delivery that took it first, with a hash of its payload
-- (the same key with another payload is refused on every node).  A row
-- goes when its delivery record is forgotten (retention).
CREATE TABLE mobkit.delivery_keys (
	idem		text PRIMARY KEY,
	id		text NOT NULL,
	node_id		text NOT NULL,
	phash		bigint NOT NULL,
	plen		bigint NOT NULL
);
CREATE INDEX delivery_keys_id ON mobkit.delivery_keys (id);

-- Take a key for a new delivery p_id: answers the delivery holding it
-- (p_id when taken now or before), its node, whether its payload is this
-- one, and its record as last written (NULL: not written yet).
CREATE FUNCTION mobkit.delivery_key(p_idem text, p_id text, p_node text,
    p_hash bigint, p_len bigint)
RETURNS TABLE (r_id text, r_node text, r_same boolean, r_record bytea)
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO mobkit.delivery_keys (idem, id, node_id, phash, plen)
	VALUES (p_idem, p_id, p_node, p_hash, p_len)
	ON CONFLICT DO NOTHING;
	RETURN QUERY SELECT k.id, k.node_id, k.phash = p_hash AND
	    k.plen = p_len, d.record
	FROM mobkit.delivery_keys k
	LEFT JOIN mobkit.deliveries d ON d.id = k.id
	WHERE k.idem = p_idem;
END
$$;

-- A delivery record belongs to the node that made it (node_id, written
-- with it): only that node sends and retries it.  The records of a node
-- whose lease ran out go to a live node, a hundred at a time, each taken
-- by one node (rows another transaction holds are skipped).  Asked at
-- every beat: the dead nodes are looked up first (by the index on
-- node_id), so that the common answer, none, costs no scan.
ALTER TABLE mobkit.deliveries ADD COLUMN node_id text;
CREATE INDEX deliveries_node ON mobkit.deliveries (node_id);

CREATE FUNCTION mobkit.adopt_deliveries(p_node text)
RETURNS TABLE (r_id text, r_record bytea)
LANGUAGE plpgsql AS $$
BEGIN
	IF NOT mobkit.alive(p_node) THEN
		RETURN;
	END IF;
	RETURN QUERY
	WITH pick AS (
		SELECT d.id FROM mobkit.deliveries d
		WHERE d.node_id IN (SELECT n.node_id FROM mobkit.nodes n
		    WHERE n.lease_until <= now() AND n.node_id <> p_node)
		ORDER BY d.ord
		LIMIT 100
		FOR UPDATE SKIP LOCKED
	)
	UPDATE mobkit.deliveries d SET node_id = p_node
	FROM pick WHERE d.id = pick.id
	RETURNING d.id, d.record;
END
$$;
