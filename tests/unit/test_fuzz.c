/*
 * test_fuzz.c: the parsers against random and mutated input, with a fixed
 * seed so that a failure repeats.  The frame codec and the checked reader
 * must accept or refuse every input without crashing (ASan and UBSan run
 * these in check-asan); the INI loader must report every bad file as
 * FILE:LINE problems, never crash, never accept garbage silently.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "cron.h"
#include "frame.h"
#include "mpack.h"
#include "unit.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

START_TEST(t_fuzz_frames)
{
	char buf[512];
	msgpack_unpacked u;
	const char *err;
	size_t n, i, plen;
	int iter, r;
	int64_t v;
	const char *s;
	size_t sl;

	for (iter = 0; iter < 20000; iter++) {
		n = rnd() % sizeof(buf);
		for (i = 0; i < n; i++)
			buf[i] = (char)rnd();
		/* half the time, a well-formed header in front */
		if (iter % 2 == 0 && n >= FRAME_HDR)
			frame_header(buf, (uint32_t)(n - FRAME_HDR));
		r = frame_next(buf, n, 1024, &plen);
		ck_assert(r == -1 || r == 0 || r == 1);
		if (r != 1)
			continue;
		msgpack_unpacked_init(&u);
		if (frame_decode(buf + FRAME_HDR, plen, &u, &err) == 0) {
			/* a map: every accessor must cope with any value */
			(void)mp_get_int(&u.data, "t", &v);
			(void)mp_get_str(&u.data, "verb", &s, &sl);
			(void)mp_find(&u.data, "args");
			free(mp_strdup(&u.data, "text"));
		}
		msgpack_unpacked_destroy(&u);
	}
}
END_TEST

START_TEST(t_fuzz_config)
{
	static const char *const pieces[] = { "[mobkitd]\n", "[module a]\n",
	    "[module b]\n", "[group g]\n", "[profile p]\n", "[member m]\n",
	    "[route r]\n", "[schedule s]\n", "[delivery]\n", "[mob]\n",
	    "command = /bin/true\n", "depends = a b\n", "group = g\n",
	    "restart = never\n", "max_restarts = 9999999999\n",
	    "stop_signal = KILL\n", "env.X = 1\n", "profile = p\n",
	    "peers = m m\n", "sink = file\n", "target = x\n",
	    "cron = 0 0 30 2 *\n", "interval = */0s\n", "member = m\n",
	    "message = hi\n", "timezone = Nowhere/City\n", "   continued\n",
	    "key without value\n", "= value without key\n", "[\n", "]\n",
	    "; comment\n", "args = \"unterminated\n", "args = 'a b' c\\\n",
	    "ready = stdout\n", "strategy = rest_for_one\n", "\xff\xfe\n",
	    "log_level = debug\n", "control_socket = /tmp/x.sock\n" };
	char path[64], line[300];
	FILE *fp;
	struct config *cfg;
	int iter, k, n, fd;

	for (iter = 0; iter < 400; iter++) {
		snprintf(path, sizeof(path), "/tmp/mobkit-fuzz-XXXXXX");
		ck_assert_int_ge(fd = mkstemp(path), 0);
		fp = fdopen(fd, "w");
		n = (int)(rnd() % 30);
		for (k = 0; k < n; k++) {
			if (rnd() % 10 == 0) {	/* a random line */
				size_t len = rnd() % (sizeof(line) - 2), i;

				for (i = 0; i < len; i++)
					line[i] = (char)(rnd() % 95 + 32);
				line[len] = '\n';
				line[len + 1] = '\0';
				fputs(line, fp);
			} else
				fputs(pieces[rnd() % (sizeof(pieces) /
				    sizeof(pieces[0]))], fp);
		}
		fclose(fp);
		cfg = config_load(path);
		ck_assert_ptr_nonnull(cfg);
		for (k = 0; k < cfg->errors.n; k++)
			ck_assert_msg(strncmp(cfg->errors.v[k], path,
			    strlen(path)) == 0, "error without its file: %s",
			    cfg->errors.v[k]);
		config_free(cfg);
		unlink(path);
	}
}
END_TEST

START_TEST(t_fuzz_cron)
{
	static const char alphabet[] = "0123456789*/,- abcdefghijklmnopqrstuvwxyz";
	char expr[64], err[256];
	struct cron c;
	struct when w;
	int iter, i, n;

	for (iter = 0; iter < 20000; iter++) {
		n = (int)(rnd() % (sizeof(expr) - 1));
		for (i = 0; i < n; i++)
			expr[i] = alphabet[rnd() % (sizeof(alphabet) - 1)];
		expr[n] = '\0';
		if (cron_parse(expr, &c, err, sizeof(err)) == 0) {
			memset(&w, 0, sizeof(w));
			w.is_cron = 1;
			w.cron = c;
			w.fixed = 1;
			/* a valid expression is due within the horizon */
			ck_assert_msg(when_next(&w, 1767225600) > 1767225600,
			    "\"%s\" never due", expr);
		} else
			ck_assert(err[0] != '\0');
	}
}
END_TEST

Suite *
fuzz_suite(void)
{
	Suite *s = suite_create("fuzz");
	TCase *tc = tcase_create("random input");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, t_fuzz_frames);
	tcase_add_test(tc, t_fuzz_config);
	tcase_add_test(tc, t_fuzz_cron);
	suite_add_tcase(s, tc);
	return s;
}
