/*
 * usage.c owns every message a user sees on stderr.  Library modules call
 * error() and return; only commands and the entry point call die().
 */
#include "thrum.h"
#include "usage.h"

static int quiet;

PRINTF_LIKE(2, 0)
static void default_report(const char *prefix, const char *fmt, va_list ap)
{
	char msg[4096];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	fprintf(stderr, "%s%s\n", prefix, msg);
	fflush(stderr);
}

static report_fn error_routine = default_report;
static report_fn warning_routine = default_report;

void set_error_routine(report_fn fn)
{
	error_routine = fn ? fn : default_report;
}

void set_warning_routine(report_fn fn)
{
	warning_routine = fn ? fn : default_report;
}

int set_error_quiet(int q)
{
	int was = quiet;

	quiet = q;
	return was;
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_routine("fatal: ", fmt, ap);
	va_end(ap);
	exit(128);
}

PRINTF_LIKE(3, 0)
static void report_errno(const char *prefix, int err, const char *fmt,
			 va_list ap)
{
	char msg[4096];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	fprintf(stderr, "%s%s: %s\n", prefix, msg, strerror(err));
	fflush(stderr);
}

void die_errno(const char *fmt, ...)
{
	va_list ap;
	int err = errno;

	va_start(ap, fmt);
	report_errno("fatal: ", err, fmt, ap);
	va_end(ap);
	exit(128);
}

int error(const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return -1;
	va_start(ap, fmt);
	error_routine("error: ", fmt, ap);
	va_end(ap);
	return -1;
}

int error_errno(const char *fmt, ...)
{
	va_list ap;
	int err = errno;

	if (quiet)
		return -1;
	va_start(ap, fmt);
	report_errno("error: ", err, fmt, ap);
	va_end(ap);
	return -1;
}

void warning(const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	warning_routine("warning: ", fmt, ap);
	va_end(ap);
}

void bug_fl(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "BUG: %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}
