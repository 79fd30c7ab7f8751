/*
 * register.h: the mob's domains made known to the engine (register.c).
 */
#ifndef MOB_REGISTER_H
#define MOB_REGISTER_H

void	 mob_register(void);

#endif
