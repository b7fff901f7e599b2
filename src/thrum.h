#ifndef THRUM_H
#define THRUM_H

/*
 * First include of every .c file: feature macros, the system headers the
 * project uses, attributes, and banned.h.  No other header lists system
 * headers.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1		/* timegm, getrandom, O_NOFOLLOW, memmem */
#endif

#include <assert.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#define NORETURN __attribute__((noreturn))
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#define ARRAY_SIZE(x) (sizeof(x) / sizeof((x)[0]))

/*
 * Named return codes callers branch on.  Every fallible function returns 0
 * on success and a negative value on failure; -1 is a generic failure that
 * has already been reported through error().
 */
enum thrum_error {
	THRUM_OK = 0,
	THRUM_ERROR = -1,
	THRUM_ENOTFOUND = -3,	/* the thing asked for does not exist */
	THRUM_ECONFLICT = -4,	/* a ref moved under us: retry */
	THRUM_EINVALID = -5,	/* malformed input: skip it and count it */
	THRUM_EBUSY = -6,	/* a lock is held by someone else */
	THRUM_ETOOBIG = -7,	/* input exceeds a configured bound */
};

#include "banned.h"

#endif
