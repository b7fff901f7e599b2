/*
 * date.c: RFC 3339 parsing and formatting without the C library's time
 * zone machinery (no timegm, no gmtime): days are converted to and from
 * civil dates arithmetically, so the result never depends on TZ.
 * THRUM_TEST_NOW (an RFC 3339 instant) pins the clock for tests.
 */
#include "thrum.h"
#include "date.h"

#define NS_PER_SEC 1000000000LL

/* days since 1970-01-01 of a proleptic Gregorian date */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int digits(const char **p, int n, int *out)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

int date_parse_rfc3339(const char *s, int64_t *out_ns)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30,
				     31, 31, 30, 31, 30, 31 };
	const char *p = s;
	int y, mo, d, h, mi, sec, frac = 0, fdigits = 0, off = 0;
	int64_t days, total;

	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) ||
	    *p++ != '-' || digits(&p, 2, &d))
		return THRUM_EINVALID;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return THRUM_EINVALID;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) ||
	    *p++ != ':' || digits(&p, 2, &sec))
		return THRUM_EINVALID;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return THRUM_EINVALID;
		for (; isdigit((unsigned char)*p); p++) {
			if (fdigits < 9) {
				frac = frac * 10 + (*p - '0');
				fdigits++;
			}
		}
		for (; fdigits < 9; fdigits++)
			frac *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om;

		if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) ||
		    oh > 23 || om > 59)
			return THRUM_EINVALID;
		off = sign * (oh * 60 + om) * 60;
	} else {
		return THRUM_EINVALID;
	}
	if (*p)
		return THRUM_EINVALID;
	if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 60)
		return THRUM_EINVALID;
	if (d > mdays[mo - 1] + (mo == 2 && is_leap(y)))
		return THRUM_EINVALID;
	if (sec == 60)
		sec = 59;	/* a leap second sorts as the second before */
	days = days_from_civil(y, mo, d);
	total = days * 86400 + h * 3600 + mi * 60 + sec - off;
	if (total > INT64_MAX / NS_PER_SEC - 1 ||
	    total < INT64_MIN / NS_PER_SEC + 1)
		return THRUM_EINVALID;
	*out_ns = total * NS_PER_SEC + frac;
	return 0;
}

static void split(int64_t ns, int64_t *y, unsigned *mo, unsigned *d,
		  int *h, int *mi, int *s, long *frac)
{
	int64_t secs = ns / NS_PER_SEC, rem = ns % NS_PER_SEC, days, sod;

	if (rem < 0) {
		rem += NS_PER_SEC;
		secs--;
	}
	days = secs / 86400;
	sod = secs % 86400;
	if (sod < 0) {
		sod += 86400;
		days--;
	}
	civil_from_days(days, y, mo, d);
	*h = sod / 3600;
	*mi = sod / 60 % 60;
	*s = sod % 60;
	*frac = rem;
}

/* with the nanoseconds (".123456789") or without */
static void format_rfc3339(int64_t ns, char *out, int with_frac)
{
	int64_t y;
	unsigned mo, d;
	int h, mi, s;
	long frac;

	split(ns, &y, &mo, &d, &h, &mi, &s, &frac);
	if (with_frac)
		snprintf(out, DATE_RFC3339_LEN + 1,
			 "%04d-%02u-%02uT%02d:%02d:%02d.%09ldZ",
			 (int)y, mo, d, h, mi, s, frac);
	else
		snprintf(out, DATE_RFC3339_LEN + 1,
			 "%04d-%02u-%02uT%02d:%02d:%02dZ",
			 (int)y, mo, d, h, mi, s);
}

void date_format_rfc3339(int64_t ns, char *out)
{
	format_rfc3339(ns, out, 1);
}

void date_format_rfc3339_sec(int64_t ns, char *out)
{
	format_rfc3339(ns, out, 0);
}

int64_t date_now_ns(void)
{
	const char *fixed = getenv("THRUM_TEST_NOW");
	struct timespec ts;
	int64_t ns;

	if (fixed && !date_parse_rfc3339(fixed, &ns))
		return ns;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

static void plural(char *out, size_t n, long v, const char *unit,
		   const char *tail)
{
	snprintf(out, n, "%ld %s%s%s", v, unit, v == 1 ? "" : "s", tail);
}

void date_format_relative(int64_t then_ns, int64_t now_ns, char *out)
{
	static const struct {
		const char *name;
		int64_t per, round, below;
	} units[] = {
		{ "second", 1, 0, 90 }, { "minute", 60, 30, 90 },
		{ "hour", 60, 30, 36 }, { "day", 24, 12, 14 },
	};
	int64_t diff;
	size_t i;

	if (then_ns > now_ns + 1000000000LL) {
		snprintf(out, DATE_RELATIVE_LEN, "in the future");
		return;
	}
	diff = (now_ns - then_ns) / 1000000000LL;	/* seconds */
	/* each unit counted, rounded, from the one before, while it is small */
	for (i = 0; i < ARRAY_SIZE(units); i++) {
		diff = (diff + units[i].round) / units[i].per;
		if (diff < units[i].below) {
			plural(out, DATE_RELATIVE_LEN, (long)diff,
			       units[i].name, " ago");
			return;
		}
	}
	/* days, from here on */
	if (diff < 70) {
		plural(out, DATE_RELATIVE_LEN, (long)((diff + 3) / 7), "week",
		       " ago");
		return;
	}
	if (diff < 365) {
		plural(out, DATE_RELATIVE_LEN, (long)((diff + 15) / 30),
		       "month", " ago");
		return;
	}
	{
		long totalmonths = (long)((diff * 12 * 2 + 365) / (365 * 2));
		long years = totalmonths / 12, months = totalmonths % 12;
		char y[32];

		if (!months) {
			plural(out, DATE_RELATIVE_LEN, years, "year", " ago");
			return;
		}
		plural(y, sizeof(y), years, "year", "");
		snprintf(out, DATE_RELATIVE_LEN, "%s, %ld month%s ago", y,
			 months, months == 1 ? "" : "s");
	}
}
