#ifndef THRUM_UNIT_SCRATCH_H
#define THRUM_UNIT_SCRATCH_H

/*
 * What several unit tests need and should not each write again: a
 * repeatable pseudo-random sequence, and removing a scratch directory
 * (without a child process or a shell).
 */
#include <ftw.h>

/* xorshift64: the same sequence from the same non-zero seed */
static inline uint64_t unit_rand(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

static inline int unit_remove_one(const char *path, const struct stat *st,
				  int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* remove dir and everything under it; symbolic links are not followed */
static inline void unit_rm_rf(const char *dir)
{
	nftw(dir, unit_remove_one, 8, FTW_DEPTH | FTW_PHYS);
}

#endif
