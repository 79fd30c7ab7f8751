/* budget.c: the death tally that restart policy reads. */
#include <stdlib.h>
#include <string.h>

#include "budget.h"

/* Forget restarts older than the window; return how many remain. */
int
budget_count(struct budget *b, int64_t window_ms, uint64_t now)
{
	int i = 0;

	while (i < b->n && now - b->t[i] >= (uint64_t)window_ms)
		i++;
	if (i > 0) {
		memmove(b->t, b->t + i, sizeof(*b->t) * (size_t)(b->n - i));
		b->n -= i;
	}
	return b->n;
}

int
budget_left(struct budget *b, int max, int64_t window_ms, uint64_t now)
{
	int left = max - budget_count(b, window_ms, now);

	return left < 0 ? 0 : left;
}

/* Record one restart at now. */
int
budget_spend(struct budget *b, uint64_t now)
{
	uint64_t *nt;

	if (b->n == b->cap) {
		int cap = b->cap ? b->cap * 2 : 8;

		if ((nt = realloc(b->t, sizeof(*nt) * (size_t)cap)) == NULL)
			return -1;
		b->t = nt;
		b->cap = cap;
	}
	b->t[b->n++] = now;
	return 0;
}

void
budget_reset(struct budget *b)
{
	b->n = 0;
}

/* base * 2^(consecutive-1), capped; 0 for the first attempt at base 0. */
uint64_t
backoff_delay(int64_t base, int64_t cap, int consecutive)
{
	uint64_t d = (uint64_t)base;
	int i;

	if (consecutive <= 1)
		return d < (uint64_t)cap ? d : (uint64_t)cap;
	for (i = 1; i < consecutive && d < (uint64_t)cap; i++)
		d *= 2;
	return d < (uint64_t)cap ? d : (uint64_t)cap;
}
