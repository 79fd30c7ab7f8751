-- 002_cluster.sql: several nodes on one database.
--
-- A node's hold on its members is one lease, the node's own row
-- (nodes.lease_until, renewed by mobkit.beat() every lease_ms / 3): a
-- member belongs to the node named in members.node_id for as long as
-- that node's lease runs.  Taking a member raises its fence; every write
-- a node makes for a member it runs is made in a transaction that first
-- calls mobkit.hold() with the fences it holds, which locks those member
-- rows (FOR SHARE: nobody takes them while the transaction runs) and
-- fails the whole transaction when one no longer matches.  Times are the
-- database's (now()); no node compares its own clock with another's.

-- One node per database is over.
DROP FUNCTION mobkit.single_node(bigint);

ALTER TABLE mobkit.nodes
    ADD COLUMN lease_until timestamptz NOT NULL DEFAULT now();

-- pin: [member] node = ID (only that node runs it); target: where
-- rebalance moves it (its holder hands it over, then only the target
-- takes it while the target lives).
ALTER TABLE mobkit.members ADD COLUMN pin text, ADD COLUMN target text;

-- An input sent on a node that does not run its member is written with
-- seq 0; the member's node numbers it when it takes it in, in arrival
-- order.
ALTER TABLE mobkit.inputs ADD COLUMN arrival bigserial;
CREATE INDEX inputs_key ON mobkit.inputs (member, key)
    WHERE key IS NOT NULL;
CREATE INDEX inputs_new ON mobkit.inputs (member, arrival)
    WHERE seq = 0 AND fin IS NULL;
DROP INDEX mobkit.inputs_pending;
CREATE INDEX inputs_pending ON mobkit.inputs (member, seq)
    WHERE fin IS NULL;

-- Is a node's lease running?
CREATE FUNCTION mobkit.alive(p_node text) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT EXISTS (SELECT 1 FROM mobkit.nodes n
	    WHERE n.node_id = p_node AND n.lease_until > now())
$$;

-- A node's heartbeat: its lease renewed; answers the members it holds
-- (with their fences and where rebalance wants them).
CREATE FUNCTION mobkit.beat(p_node text, p_host text, p_pid integer,
    p_lease integer)
RETURNS TABLE (r_member text, r_fence bigint, r_target text)
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO mobkit.nodes AS n (node_id, host, pid, lease_ms,
	    lease_until)
	VALUES (p_node, p_host, p_pid, p_lease,
	    now() + p_lease * interval '1 millisecond')
	ON CONFLICT (node_id) DO UPDATE SET host = excluded.host,
	    pid = excluded.pid, lease_ms = excluded.lease_ms,
	    last_seen = now(), lease_until = excluded.lease_until;
	RETURN QUERY SELECT m.member, m.fence, m.target FROM mobkit.members m
	    WHERE m.node_id = p_node ORDER BY m.member;
END
$$;

-- A node's roster: its members exist as rows (with their pins), and
-- what it held before it restarted is taken again under new fences
-- (a process of a past life can no longer write), or let go when it is
-- no longer configured here.
CREATE FUNCTION mobkit.join(p_node text, p_members text[], p_pins text[])
RETURNS TABLE (r_member text, r_fence bigint)
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO mobkit.members AS m (member, pin)
	SELECT u.member, NULLIF(u.pin, '')
	FROM unnest(p_members, p_pins) AS u(member, pin)
	ON CONFLICT (member) DO UPDATE SET pin = excluded.pin;
	UPDATE mobkit.members m SET node_id = NULL
	    WHERE m.node_id = p_node AND NOT (m.member = ANY (p_members));
	RETURN QUERY UPDATE mobkit.members m SET fence = m.fence + 1,
	    target = NULL
	    WHERE m.node_id = p_node
	    RETURNING m.member, m.fence;
END
$$;

-- Take what this node should run: members pinned to it or being moved
-- to it, then free ones (never held, or held by a node whose lease ran
-- out) up to its share of the unpinned members among the live nodes.
-- Rows another transaction holds are skipped, never waited for.
CREATE FUNCTION mobkit.adopt(p_node text, p_known text[])
RETURNS TABLE (r_member text, r_fence bigint)
LANGUAGE plpgsql AS $$
DECLARE
	live integer;
	total integer;
	mine integer;
	room integer;
BEGIN
	IF NOT mobkit.alive(p_node) THEN
		RETURN;
	END IF;
	SELECT count(*) INTO live FROM mobkit.nodes n
	    WHERE n.lease_until > now();
	SELECT count(*) INTO total FROM mobkit.members m
	    WHERE m.pin IS NULL AND m.member = ANY (p_known);
	SELECT count(*) INTO mine FROM mobkit.members m
	    WHERE m.pin IS NULL AND m.node_id = p_node;
	room := greatest(0, ceil(total::numeric / greatest(live, 1))::integer
	    - mine);
	-- (only the rows picked are locked: another node adopting at the
	-- same time skips them and takes the next ones)
	RETURN QUERY
	WITH due AS (
		SELECT m.member FROM mobkit.members m
		WHERE m.member = ANY (p_known)
		  AND (m.pin = p_node OR m.target = p_node)
		  AND (m.node_id IS NULL OR NOT mobkit.alive(m.node_id))
		FOR UPDATE SKIP LOCKED
	), spare AS (
		SELECT m.member FROM mobkit.members m
		WHERE m.member = ANY (p_known) AND m.pin IS NULL
		  AND (m.target IS NULL OR NOT mobkit.alive(m.target))
		  AND (m.node_id IS NULL OR NOT mobkit.alive(m.node_id))
		ORDER BY m.member
		LIMIT room
		FOR UPDATE SKIP LOCKED
	), pick AS (
		SELECT d.member FROM due d UNION SELECT s.member FROM spare s
	)
	UPDATE mobkit.members m SET node_id = p_node, fence = m.fence + 1,
	    target = NULL, lease_until = NULL
	FROM pick WHERE m.member = pick.member
	RETURNING m.member, m.fence;
END
$$;

-- Let a member go (a handover, or a member no longer run here): only
-- while this node still holds it under that fence.
CREATE FUNCTION mobkit.release(p_node text, p_member text, p_fence bigint)
RETURNS boolean
LANGUAGE sql AS $$
	WITH r AS (
		UPDATE mobkit.members m SET node_id = NULL
		WHERE m.member = p_member AND m.node_id = p_node
		  AND m.fence = p_fence
		RETURNING 1
	)
	SELECT EXISTS (SELECT 1 FROM r)
$$;

-- The fencing check of every transaction that writes for members: the
-- rows are locked (in order) until it ends; any that this node no
-- longer holds under the given fence fails the transaction, naming them
-- (tab-separated) after "mobkit: lease lost: ".
CREATE FUNCTION mobkit.hold(p_node text, p_members text[],
    p_fences bigint[])
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	lost text;
BEGIN
	PERFORM 1 FROM mobkit.members m WHERE m.member = ANY (p_members)
	    ORDER BY m.member FOR SHARE;
	SELECT string_agg(h.member, chr(9)) INTO lost
	FROM unnest(p_members, p_fences) AS h(member, fence)
	LEFT JOIN mobkit.members m ON m.member = h.member
	    AND m.node_id = p_node AND m.fence = h.fence
	WHERE m.member IS NULL;
	IF lost IS NOT NULL THEN
		RAISE EXCEPTION 'mobkit: lease lost: %', lost;
	END IF;
END
$$;

-- A new input whose key must be unique among the member's live inputs
-- (pending, or finished since p_since), or one sent on a node that does
-- not run its member (p_notify: its node is told).  Answers the id of
-- the input that holds the key: p_id when this one was taken (or was
-- already, on a retry), another's when this is a duplicate.  Two
-- transactions with one key wait for each other (an advisory lock), so
-- the second sees the first.
CREATE FUNCTION mobkit.accept(p_id text, p_member text, p_seq bigint,
    p_key text, p_text text, p_state smallint, p_attempts integer,
    p_accepted bigint, p_since bigint, p_notify boolean)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	held text;
	owner text;
BEGIN
	IF p_key IS NOT NULL THEN
		PERFORM pg_advisory_xact_lock(hashtextextended(p_member ||
		    chr(9) || p_key, 7814196357722011766));
		SELECT i.id INTO held FROM mobkit.inputs i
		WHERE i.member = p_member AND i.key = p_key
		  AND (i.fin IS NULL OR i.fin >= p_since)
		ORDER BY i.arrival LIMIT 1;
		IF held IS NOT NULL THEN
			RETURN held;
		END IF;
	END IF;
	INSERT INTO mobkit.inputs (id, member, seq, key, text, state,
	    attempts, accepted_ms)
	VALUES (p_id, p_member, p_seq, p_key, p_text, p_state, p_attempts,
	    p_accepted)
	ON CONFLICT (id) DO NOTHING;
	IF p_notify THEN
		SELECT m.node_id INTO owner FROM mobkit.members m
		    WHERE m.member = p_member;
		IF owner IS NOT NULL THEN
			PERFORM pg_notify('mobkit_input', owner || chr(9) ||
			    p_member);
		END IF;
	END IF;
	RETURN p_id;
END
$$;

-- Even out the members over the live nodes: unpinned members of the
-- fullest node are marked for the emptiest one until no two counts
-- differ by more than one.  Answers the moves; their holders hand them
-- over, the targets take them.
CREATE FUNCTION mobkit.rebalance()
RETURNS TABLE (r_member text, r_from text, r_to text)
LANGUAGE plpgsql AS $$
DECLARE
	hi text;
	lo text;
	nhi integer;
	nlo integer;
	m text;
BEGIN
	CREATE TEMP TABLE IF NOT EXISTS mk_counts (node text PRIMARY KEY,
	    n integer) ON COMMIT DROP;
	DELETE FROM mk_counts;
	INSERT INTO mk_counts
	SELECT n.node_id, (SELECT count(*) FROM mobkit.members x
	    WHERE x.node_id = n.node_id AND x.pin IS NULL
	      AND x.target IS NULL)
	FROM mobkit.nodes n WHERE n.lease_until > now();
	LOOP
		SELECT c.node, c.n INTO hi, nhi FROM mk_counts c
		    ORDER BY c.n DESC, c.node LIMIT 1;
		SELECT c.node, c.n INTO lo, nlo FROM mk_counts c
		    ORDER BY c.n, c.node LIMIT 1;
		EXIT WHEN hi IS NULL OR nhi - nlo <= 1;
		SELECT x.member INTO m FROM mobkit.members x
		WHERE x.node_id = hi AND x.pin IS NULL AND x.target IS NULL
		ORDER BY x.member DESC LIMIT 1;
		EXIT WHEN m IS NULL;
		UPDATE mobkit.members x SET target = lo WHERE x.member = m;
		UPDATE mk_counts c SET n = c.n - 1 WHERE c.node = hi;
		UPDATE mk_counts c SET n = c.n + 1 WHERE c.node = lo;
		r_member := m;
		r_from := hi;
		r_to := lo;
		RETURN NEXT;
	END LOOP;
	IF EXISTS (SELECT 1 FROM mobkit.members x WHERE x.target IS NOT NULL)
	THEN
		PERFORM pg_notify('mobkit_cluster', 'rebalance');
	END IF;
END
$$;

-- A node's connection to the database came back: the session lock that
-- makes it the only mobkitd of its node_id is taken again on the new
-- session, first thing in its first transaction, or that transaction
-- fails when another mobkitd took the node_id meanwhile.
CREATE FUNCTION mobkit.relock(p_node text, p_key bigint)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	IF NOT pg_try_advisory_lock(hashtextextended('mobkit node ' ||
	    p_node, p_key)) THEN
		RAISE EXCEPTION 'mobkit: node taken: another mobkitd runs as '
		    'node % now', p_node;
	END IF;
END
$$;
