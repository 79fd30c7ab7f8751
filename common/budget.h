/* budget.h: restart budgets over a sliding window, and doubling backoff. */
#ifndef MOBKIT_BUDGET_H
#define MOBKIT_BUDGET_H

#include <stdint.h>

struct budget {
	uint64_t	*t;	/* restart times (mono ms), oldest first */
	int		 n;
	int		 cap;
};

int		 budget_count(struct budget *, int64_t window_ms, uint64_t now);
int		 budget_left(struct budget *, int max, int64_t window_ms,
		    uint64_t now);
int		 budget_spend(struct budget *, uint64_t now);
void		 budget_reset(struct budget *);
uint64_t	 backoff_delay(int64_t base, int64_t cap, int consecutive);

#endif
