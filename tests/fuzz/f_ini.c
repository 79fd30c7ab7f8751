/*
 * f_ini.c: the INI loader on any file.  config_load must not crash, must
 * name the file (or the included one) in every problem it reports, and a
 * config it accepts must hold together (every child has a name and a
 * command, every member a profile that exists).
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

/* Does the problem start with the name of a file read (an include too)? */
static int
named(const struct config *cfg, const char *problem)
{
	int i;

	for (i = 0; i < cfg->files.n; i++)
		if (strncmp(problem, cfg->files.v[i],
		    strlen(cfg->files.v[i])) == 0)
			return 1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_memfile(data, size);
	struct config *cfg;
	int i;

	if ((cfg = config_load(path)) == NULL)
		fuzz_fail("config_load: NULL");
	for (i = 0; i < cfg->errors.n; i++)
		if (!named(cfg, cfg->errors.v[i]))
			fuzz_fail("a problem without its file: %s",
			    cfg->errors.v[i]);
	if (cfg->errors.n == 0) {
		for (i = 0; i < cfg->nchildren; i++) {
			struct child_conf *c = cfg->children[i];

			FUZZ_ASSERT(c->name != NULL && *c->name != '\0');
			FUZZ_ASSERT(c->command != NULL);
			FUZZ_ASSERT(config_child(cfg, c->name) == c);
			if (c->kind == KIND_MEMBER)
				FUZZ_ASSERT(config_profile(cfg,
				    c->profile) != NULL);
		}
	}
	config_free(cfg);
	return 0;
}
