/* timeutil.h: monotonic and wall-clock milliseconds. */
#ifndef MOBKIT_TIMEUTIL_H
#define MOBKIT_TIMEUTIL_H

#include <stdint.h>

uint64_t	mono_ms(void);	/* CLOCK_MONOTONIC, for deadlines */
uint64_t	mono_us(void);
uint64_t	wall_ms(void);	/* CLOCK_REALTIME, for records */

#endif
