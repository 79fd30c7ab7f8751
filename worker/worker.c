/*
 * mobkit-worker: a supervised module of the mobkit tree.  This build speaks
 * the supervision protocol only (HELLO, READY, STOP on fd 3); its own
 * runtime is not in it yet.
 */
#include "child.h"

int
main(int argc, char *argv[])
{
	return mkchild_main("mobkit-worker", argc, argv);
}
