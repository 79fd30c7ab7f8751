/*
 * discover_apply.c: what a discover program printed, read and checked
 * whole before anything changes, then the roster made to match it:
 * members it lists and the mob lacks are spawned (dynamic, so a reload
 * keeps them), members it listed before and no longer does are retired
 * (their mailbox drains first, as retire does), and the peers it names
 * are wired, those it named before and no longer does unwired.
 *
 * Invariants: known holds the members discovery spawned and has not
 * retired; kedges the edges it wired ("a\tb", a < b).  A run that fails
 * any check changes nothing.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "log.h"
#include "mpack.h"
#include "engine/engine.h"
#include "mob/discover.h"
#include "mob/mailbox.h"
#include "mob/members.h"

static struct strlist	 known;		/* ids discovery spawned */
static struct strlist	 kedges;	/* edges it wired, "a\tb" */

/* Is id a member that discovery spawned? */
int
discover_has(const char *id)
{
	return strlist_has(&known, id);
}

/* How many members discovery spawned and has not retired. */
int
discover_count(void)
{
	return known.n;
}

/* --- reading ------------------------------------------------------- */

void
disc_list_free(struct disc_list *l)
{
	int i, j;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].id);
		free(l->v[i].profile);
		free(l->v[i].instructions);
		for (j = 0; j < l->v[i].npeers; j++)
			free(l->v[i].peers[j]);
		free(l->v[i].peers);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* A string member of o, or NULL; -1 when present and not a string. */
static int
opt_str(json_t *o, const char *k, char **out)
{
	json_t *v = json_object_get(o, k);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -1;
	if ((*out = strdup(json_string_value(v))) == NULL)
		fatal("strdup");
	return 0;
}

/* One line's object into m; NULL, or what is wrong with it. */
static const char *
disc_member_read(json_t *o, struct disc_member *m)
{
	json_t *p, *v;
	size_t i;

	if (!json_is_object(o))
		return "not a JSON object";
	if (opt_str(o, "id", &m->id) == -1 || m->id == NULL)
		return "\"id\" must be a string";
	if (opt_str(o, "profile", &m->profile) == -1 || m->profile == NULL)
		return "\"profile\" must be a string";
	if (opt_str(o, "instructions", &m->instructions) == -1)
		return "\"instructions\" must be a string";
	p = json_object_get(o, "peers");
	if (p == NULL || json_is_null(p))
		return NULL;
	if (!json_is_array(p))
		return "\"peers\" must be an array of member ids";
	if ((m->peers = calloc(json_array_size(p) + 1, sizeof(char *))) ==
	    NULL)
		fatal("calloc");
	json_array_foreach(p, i, v) {
		if (!json_is_string(v))
			return "\"peers\" must be an array of member ids";
		if ((m->peers[m->npeers++] = strdup(json_string_value(v))) ==
		    NULL)
			fatal("strdup");
	}
	return NULL;
}

/* One JSON object a line (blank lines skipped); -1 and err. */
int
disc_parse(const char *out, size_t len, struct disc_list *l, char *err,
    size_t errsz)
{
	const char *p = out, *end = out + len, *nl, *why;
	json_error_t je;
	json_t *o;
	int line = 0;

	memset(l, 0, sizeof(*l));
	for (; p < end; p = nl + 1) {
		line++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (strspn(p, " \t\r") >= (size_t)(nl - p))
			continue;
		if ((o = json_loadb(p, (size_t)(nl - p), 0, &je)) == NULL) {
			snprintf(err, errsz, "line %d: bad JSON: %s", line,
			    je.text);
			return -1;
		}
		if ((l->v = reallocarray(l->v, (size_t)l->n + 1,
		    sizeof(*l->v))) == NULL)
			fatal("reallocarray");
		memset(&l->v[l->n], 0, sizeof(l->v[0]));
		why = disc_member_read(o, &l->v[l->n++]);
		json_decref(o);
		if (why != NULL) {
			snprintf(err, errsz, "line %d: %s", line, why);
			return -1;
		}
	}
	return 0;
}

/* --- checking ------------------------------------------------------ */

static int
listed(const struct disc_list *l, const char *id)
{
	int i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].id, id) == 0)
			return 1;
	return 0;
}

/* A member that exists apart from discovery (config or spawn). */
static int
other_member(const char *id)
{
	struct child *c = child_find(id);

	return c != NULL && c->mbox != NULL && !c->removing &&
	    !c->mbox->retiring && !discover_has(id);
}

/* One member of the list; -1 and err. */
static int
disc_check_one(const struct disc_list *l, int i, char *err, size_t errsz)
{
	const struct disc_member *m = &l->v[i];
	struct child *c;
	int j;

	if (!valid_name(m->id) || strcmp(m->id, "root") == 0 ||
	    strcmp(m->id, "mob") == 0)
		return snprintf(err, errsz, "\"%s\": bad member id (letters, "
		    "digits, '.', '_' and '-')", m->id), -1;
	for (j = 0; j < i; j++)
		if (strcmp(l->v[j].id, m->id) == 0)
			return snprintf(err, errsz, "\"%s\" is listed twice",
			    m->id), -1;
	if (config_child(D->cfg, m->id) != NULL)
		return snprintf(err, errsz, "\"%s\" clashes with a section of "
		    "the config", m->id), -1;
	if (config_profile(D->cfg, m->profile) == NULL)
		return snprintf(err, errsz, "\"%s\": no profile named \"%s\"",
		    m->id, m->profile), -1;
	c = child_find(m->id);
	if (c != NULL && !discover_has(m->id))
		return snprintf(err, errsz, "\"%s\": a child with that name "
		    "exists%s", m->id, c->mbox != NULL && c->mbox->retiring ?
		    " (still retiring)" : ""), -1;
	for (j = 0; j < m->npeers; j++) {
		if (strcmp(m->peers[j], m->id) == 0)
			return snprintf(err, errsz, "\"%s\": a member cannot be "
			    "its own peer", m->id), -1;
		if (!listed(l, m->peers[j]) && !other_member(m->peers[j]))
			return snprintf(err, errsz, "\"%s\": peer \"%s\" is no "
			    "member", m->id, m->peers[j]), -1;
	}
	return 0;
}

/* The whole list against the mob as it is; -1 and err. */
int
disc_check(const struct disc_list *l, char *err, size_t errsz)
{
	int i;

	for (i = 0; i < l->n; i++)
		if (disc_check_one(l, i, err, errsz) == -1)
			return -1;
	return 0;
}

/* --- applying ------------------------------------------------------ */

static void
edge_key(char *buf, size_t sz, const char *a, const char *b)
{
	if (strcmp(a, b) > 0)
		snprintf(buf, sz, "%s\t%s", b, a);
	else
		snprintf(buf, sz, "%s\t%s", a, b);
}

/* Spawn what is new; a listed member's instructions follow the list. */
static void
disc_spawn(const struct disc_list *l, struct strlist *spawned)
{
	const struct disc_member *m;
	struct child *c;
	const char *err;
	int i;

	for (i = 0; i < l->n; i++) {
		m = &l->v[i];
		if (discover_has(m->id)) {
			c = child_find(m->id);
		} else if ((c = member_spawn(m->id, m->profile, 1, &err)) ==
		    NULL) {
			log_warnx("discover: cannot spawn %s: %s", m->id, err);
			continue;
		} else {
			(void)strlist_add(&known, m->id);
			(void)strlist_add(spawned, m->id);
		}
		if (c == NULL)
			continue;
		free(c->conf->instructions);	/* at the next worker start */
		c->conf->instructions = m->instructions != NULL ?
		    strdup(m->instructions) : NULL;
	}
}

/* Retire the members no longer listed; known keeps the rest. */
static void
disc_retire(const struct disc_list *l, struct strlist *retired)
{
	struct strlist keep = { 0 };
	struct child *c;
	int i;

	for (i = 0; i < known.n; i++) {
		if (listed(l, known.v[i])) {
			(void)strlist_add(&keep, known.v[i]);
			continue;
		}
		if (config_child(D->cfg, known.v[i]) != NULL)
			continue;	/* a reload made it a [member]: theirs */
		c = child_find(known.v[i]);
		if (c != NULL && c->mbox != NULL && !c->removing)
			(void)member_retire(c);
		(void)strlist_add(retired, known.v[i]);
	}
	strlist_free(&known);
	known = keep;
}

/* Wire the edges listed, unwire those listed before and no more. */
static void
disc_wire(const struct disc_list *l, struct strlist *wired,
    struct strlist *unwired)
{
	struct strlist nedges = { 0 }, ours = { 0 };
	char k[300], *tab;
	int i, j, r;

	for (i = 0; i < l->n; i++)
		for (j = 0; j < l->v[i].npeers; j++) {
			edge_key(k, sizeof(k), l->v[i].id, l->v[i].peers[j]);
			if (!strlist_has(&nedges, k))
				(void)strlist_add(&nedges, k);
		}
	for (i = 0; i < nedges.n; i++) {
		tab = strchr(nedges.v[i], '\t');
		*tab = '\0';
		r = peers_add(nedges.v[i], tab + 1);
		*tab = '\t';
		if (r == 0)
			(void)strlist_add(wired, nedges.v[i]);
		if (r == 0 || strlist_has(&kedges, nedges.v[i]))
			(void)strlist_add(&ours, nedges.v[i]);
	}
	for (i = 0; i < kedges.n; i++) {
		if (strlist_has(&nedges, kedges.v[i]))
			continue;
		tab = strchr(kedges.v[i], '\t');
		*tab = '\0';
		if (peers_remove(kedges.v[i], tab + 1) == 0) {
			*tab = '\t';
			(void)strlist_add(unwired, kedges.v[i]);
		}
		*tab = '\t';
	}
	strlist_free(&kedges);
	strlist_free(&nedges);
	kedges = ours;	/* an edge the config (or wire) made stays theirs */
}

/* key: [[a, b], ...] from "a\tb"; frees the list. */
static void
pack_pairs(msgpack_packer *pk, const char *key, struct strlist *l)
{
	char *tab;
	int i;

	mp_str(pk, key);
	msgpack_pack_array(pk, (size_t)l->n);
	for (i = 0; i < l->n; i++) {
		tab = strchr(l->v[i], '\t');
		msgpack_pack_array(pk, 2);
		msgpack_pack_str(pk, (size_t)(tab - l->v[i]));
		msgpack_pack_str_body(pk, l->v[i], (size_t)(tab - l->v[i]));
		mp_str(pk, tab + 1);
	}
	strlist_free(l);
}

/* Make the discovered roster the list; pack what moved. */
void
disc_apply(const struct disc_list *l, msgpack_packer *pk)
{
	struct strlist spawned = { 0 }, retired = { 0 };
	struct strlist wired = { 0 }, unwired = { 0 };

	disc_spawn(l, &spawned);
	disc_retire(l, &retired);
	disc_wire(l, &wired, &unwired);
	msgpack_pack_map(pk, 4);
	mp_kstrs(pk, "spawned", spawned.v, spawned.n);
	mp_kstrs(pk, "retired", retired.v, retired.n);
	pack_pairs(pk, "wired", &wired);
	pack_pairs(pk, "unwired", &unwired);
	strlist_free(&spawned);
	strlist_free(&retired);
}
