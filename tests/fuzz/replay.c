/*
 * replay.c: run a fuzz target on files, without libFuzzer, so that make
 * check (gcc, and gcc with ASan+UBSan) replays every corpus.  Arguments
 * are files or directories (every regular file in them, in name order);
 * a directory that does not exist is skipped.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

/* a target without one leaves it NULL */
int	LLVMFuzzerInitialize(int *, char ***) __attribute__((weak));

static FILE	*out;
static int	 nrun;

/* Run the target on one file, in a buffer of exactly its size. */
static void
run_file(const char *path)
{
	FILE *fp;
	struct stat st;
	uint8_t *buf;
	size_t n;

	if ((fp = fopen(path, "rb")) == NULL || fstat(fileno(fp), &st) == -1) {
		fprintf(out, "replay: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		fprintf(out, "replay: %s: out of memory\n", path);
		exit(1);
	}
	n = fread(buf, 1, (size_t)st.st_size, fp);
	fclose(fp);
	(void)LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	nrun++;
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static void
run_path(const char *path)
{
	struct dirent **v;
	struct stat st;
	char file[4096];
	int n, i;

	if (stat(path, &st) == -1)
		return;
	if (!S_ISDIR(st.st_mode)) {
		run_file(path);
		return;
	}
	if ((n = scandir(path, &v, NULL, by_name)) == -1) {
		fprintf(out, "replay: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	for (i = 0; i < n; i++) {
		snprintf(file, sizeof(file), "%s/%s", path, v[i]->d_name);
		if (v[i]->d_name[0] != '.' && stat(file, &st) == 0 &&
		    S_ISREG(st.st_mode))
			run_file(file);
		free(v[i]);
	}
	free(v);
}

int
main(int argc, char *argv[])
{
	int i;

	out = stdout;	/* a target may point stderr and stdout elsewhere */
	setvbuf(out, NULL, _IOLBF, 0);
	if (LLVMFuzzerInitialize != NULL)
		(void)LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++)
		run_path(argv[i]);
	fprintf(out, "replay %s: %d input(s), no crash\n", argv[0], nrun);
	return 0;
}
