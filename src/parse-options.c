/*
 * Declared options (parse-options.h): one parser, one -h text, one set
 * of usage errors for every command.
 */
#include "thrum.h"
#include "parse-options.h"
#include "strbuf.h"
#include "strvec.h"
#include "usage.h"
#include "utf8.h"
#include "wrapper.h"

/* the column where -h starts an option's help, as git's does */
#define USAGE_OPTS_WIDTH 24
#define USAGE_GAP 2
/* edits (insert, delete, change, swap) a typo may be away at most */
#define TYPO_MAX_EDITS 2

void usage_with_options_to(FILE *f, const char *const *usagestr,
			   const struct thrum_option *opts)
{
	const char *prefix = "usage: ";
	const struct thrum_option *o;
	int any = 0;

	for (; usagestr && *usagestr; usagestr++) {
		fprintf(f, "%s%s\n", prefix, *usagestr);
		prefix = "   or: ";
	}
	for (o = opts; o && o->type != OPTION_END; o++) {
		int pos;

		if (o->flags & PARSE_OPT_HIDDEN)
			continue;
		if (!any++)
			fputc('\n', f);
		pos = fprintf(f, "    --%s", o->long_name);
		if (o->argh)
			pos += fprintf(f, " %s", o->argh);
		if (pos <= USAGE_OPTS_WIDTH + 4 - USAGE_GAP)
			fprintf(f, "%*s%s\n",
				USAGE_OPTS_WIDTH + 4 - pos, "", o->help);
		else
			fprintf(f, "\n%*s%s\n", USAGE_OPTS_WIDTH + 4, "",
				o->help);
	}
}

void usage_with_options(const char *const *usagestr,
			const struct thrum_option *opts)
{
	usage_with_options_to(stderr, usagestr, opts);
	exit(129);
}

void usage_opt_msg(const char *const *usagestr,
		   const struct thrum_option *opts, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	fprintf(stderr, "error: %s\n", sb.buf);
	strbuf_release(&sb);
	usage_with_options(usagestr, opts);
}

void show_man_page(const char *page)
{
	/* "git-" first: git help would make "thrum-mcp" a guide's page */
	char *name = xstrfmt("git-%s", page);

	fflush(stdout);
	execlp("git", "git", "help", name, (char *)NULL);
	die_errno("cannot run 'git help %s'", name);
}

/* optimal string alignment distance: edits, a swap of neighbours is one */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, d;
	size_t *row0, *row1, *row2, *t;

	row0 = xcalloc(lb + 1, sizeof(*row0));
	row1 = xcalloc(lb + 1, sizeof(*row1));
	row2 = xcalloc(lb + 1, sizeof(*row2));
	for (j = 0; j <= lb; j++)
		row1[j] = j;
	for (i = 1; i <= la; i++) {
		row2[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t best = row1[j - 1] + (a[i - 1] != b[j - 1]);

			if (row1[j] + 1 < best)
				best = row1[j] + 1;
			if (row2[j - 1] + 1 < best)
				best = row2[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && row0[j - 2] + 1 < best)
				best = row0[j - 2] + 1;
			row2[j] = best;
		}
		t = row0;
		row0 = row1;
		row1 = row2;
		row2 = t;
	}
	d = row1[lb];
	free(row0);
	free(row1);
	free(row2);
	return d;
}

const char *closest_name(const char *s, const char *const *names, size_t nr)
{
	const char *best = NULL;
	size_t i, best_d = SIZE_MAX, len = strlen(s);

	for (i = 0; i < nr; i++) {
		size_t d = edit_distance(s, names[i]);

		if (d < best_d) {
			best_d = d;
			best = names[i];
		}
	}
	/* "x" is two edits from every two-letter name: not a typo */
	if (!best || best_d > TYPO_MAX_EDITS || best_d >= len)
		return NULL;
	return best;
}

static void unknown_option(const char *arg, const char *const *usagestr,
			   const struct thrum_option *opts)
{
	const char *names[64], *guess;
	const char *eq = strchr(arg, '=');
	char *name = eq ? xstrndup(arg + 2, eq - arg - 2) : xstrdup(arg + 2);
	const struct thrum_option *o;
	size_t nr = 0;

	for (o = opts; o->type != OPTION_END && nr < ARRAY_SIZE(names); o++)
		if (!(o->flags & PARSE_OPT_HIDDEN))
			names[nr++] = o->long_name;
	guess = closest_name(name, names, nr);
	free(name);
	if (guess)
		usage_opt_msg(usagestr, opts, "unknown option '%s' (did you "
			      "mean '--%s'?)", arg, guess);
	usage_opt_msg(usagestr, opts, "unknown option '%s'", arg);
}

/* the option arg names: exact, or a unique prefix (getopt's rule) */
static const struct thrum_option *find_option(const char *arg, size_t len,
		const char *const *usagestr, const struct thrum_option *opts)
{
	const struct thrum_option *o, *found = NULL;
	int ambiguous = 0;

	for (o = opts; o->type != OPTION_END; o++) {
		if (strncmp(o->long_name, arg + 2, len))
			continue;
		if (!o->long_name[len])
			return o;
		/* aliases of one variable are one option */
		if (found && found->value != o->value)
			ambiguous = 1;
		found = o;
	}
	if (ambiguous)
		usage_opt_msg(usagestr, opts, "option '%.*s' is ambiguous",
			      (int)len + 2, arg);
	if (!found)
		unknown_option(arg, usagestr, opts);
	return found;
}

static void set_value(const struct thrum_option *o, const char *value,
		      const char *const *usagestr,
		      const struct thrum_option *opts)
{
	size_t bad;
	long n;

	switch (o->type) {
	case OPTION_BOOL:
		*(int *)o->value = 1;
		break;
	case OPTION_STRING:
	case OPTION_STRING_LIST:
		if ((o->flags & PARSE_OPT_TEXT) &&
		    (bad = utf8_invalid_at(value)))
			usage_opt_msg(usagestr, opts, "--%s is not valid "
				      "UTF-8 (byte %zu)", o->long_name, bad);
		if (o->type == OPTION_STRING_LIST)
			strvec_push(o->value, value);
		else
			*(const char **)o->value = value;
		break;
	case OPTION_INTEGER:
		if (thrum_parse_long(value, o->min, o->max, &n) < 0) {
			if (o->max == LONG_MAX)
				usage_opt_msg(usagestr, opts, "invalid --%s "
					      "'%s': want a whole number of "
					      "at least %ld", o->long_name,
					      value, o->min);
			usage_opt_msg(usagestr, opts, "invalid --%s '%s': "
				      "want a whole number from %ld to %ld",
				      o->long_name, value, o->min, o->max);
		}
		*(long *)o->value = n;
		break;
	case OPTION_END:
		BUG("OPTION_END has no value");
	}
}

int parse_options(int argc, const char **argv,
		  const struct thrum_option *opts,
		  const char *const *usagestr, const char *man)
{
	static const struct thrum_option none[] = { OPT_END() };
	int i, nr = 0, only_operands = 0;

	if (!opts)
		opts = none;
	for (i = 0; i < argc; i++) {
		const char *arg = argv[i], *eq;
		const struct thrum_option *o;
		size_t len;

		if (only_operands || arg[0] != '-' || !arg[1]) {
			argv[nr++] = arg;
			continue;
		}
		if (!strcmp(arg, "--")) {
			only_operands = 1;
			continue;
		}
		if (!strcmp(arg, "-h")) {
			usage_with_options_to(stdout, usagestr, opts);
			exit(129);
		}
		if (arg[1] != '-')
			usage_opt_msg(usagestr, opts, "unknown switch '%c'",
				      arg[1]);
		if (!strcmp(arg, "--help"))
			show_man_page(man ? man : "thrum");
		eq = strchr(arg, '=');
		len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
		o = find_option(arg, len, usagestr, opts);
		if (o->type == OPTION_BOOL && eq)
			usage_opt_msg(usagestr, opts, "option '--%s' takes no "
				      "value", o->long_name);
		if (o->type == OPTION_BOOL) {
			set_value(o, NULL, usagestr, opts);
		} else if (eq) {
			set_value(o, eq + 1, usagestr, opts);
		} else if (i + 1 < argc) {
			set_value(o, argv[++i], usagestr, opts);
		} else {
			usage_opt_msg(usagestr, opts, "option '--%s' requires "
				      "a value", o->long_name);
		}
	}
	argv[nr] = NULL;
	return nr;
}
