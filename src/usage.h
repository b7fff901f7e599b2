#ifndef THRUM_USAGE_H
#define THRUM_USAGE_H

/*
 * Error reporting, as git does it: die() prints "fatal: ..." and exits 128;
 * error() prints "error: ..." and returns -1; warning() prints and goes on;
 * BUG() aborts.  Each routine can be replaced (the daemon sends them to its
 * log file).
 */
typedef void (*report_fn)(const char *prefix, const char *fmt, va_list ap);

NORETURN PRINTF_LIKE(1, 2) void die(const char *fmt, ...);
NORETURN PRINTF_LIKE(1, 2) void die_errno(const char *fmt, ...);
PRINTF_LIKE(1, 2) int error(const char *fmt, ...);
PRINTF_LIKE(1, 2) int error_errno(const char *fmt, ...);
PRINTF_LIKE(1, 2) void warning(const char *fmt, ...);
NORETURN PRINTF_LIKE(3, 4) void bug_fl(const char *file, int line,
				       const char *fmt, ...);
#define BUG(...) bug_fl(__FILE__, __LINE__, __VA_ARGS__)

/* usage errors: usage_opt_msg() in parse-options.h */
void set_error_routine(report_fn fn);
void set_warning_routine(report_fn fn);
/*
 * When non-zero, error() and warning() print nothing (tests, quiet hooks,
 * a best-effort cache); returns what it was, to put back.
 */
int set_error_quiet(int quiet);

#endif
