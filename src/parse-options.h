#ifndef THRUM_PARSE_OPTIONS_H
#define THRUM_PARSE_OPTIONS_H

/*
 * Declared options, on git's parse-options model: a command lists its
 * options in a table bound to the variables they set; the table is what
 * is parsed and what -h prints, so that every command treats -h, --help,
 * "--name=value" and "--name value", unique prefixes, "--" and typos the
 * same way.
 *
 *	static struct { const char *to; int json; } opt;
 *	static const struct thrum_option options[] = {
 *		OPT_STRING("to", &opt.to, "<@name>", "who gets it"),
 *		OPT_JSON(&opt.json),
 *		OPT_END()
 *	};
 *
 * Only long options: every command's only short option is -h.
 */

enum parse_opt_type {
	OPTION_END = 0,
	OPTION_BOOL,		/* int *: set to 1 */
	OPTION_STRING,		/* const char **: the value, as given */
	OPTION_INTEGER,		/* long *: a whole number in [min, max] */
	OPTION_STRING_LIST,	/* struct strvec *: each value, in order */
};

enum parse_opt_flags {
	PARSE_OPT_TEXT = 1 << 0,	/* the value must be valid UTF-8 */
	PARSE_OPT_HIDDEN = 1 << 1,	/* an alias: parsed, not listed */
};

struct thrum_option {
	enum parse_opt_type type;
	const char *long_name;
	void *value;
	const char *argh;	/* "<n>": what the value is, for -h */
	const char *help;
	unsigned flags;
	long min, max;		/* OPTION_INTEGER */
};

#define OPT_BOOL(l, v, h) { OPTION_BOOL, (l), (v), NULL, (h), 0, 0, 0 }
#define OPT_STRING(l, v, a, h) \
	{ OPTION_STRING, (l), (v), (a), (h), 0, 0, 0 }
/* free text that goes into an event: refused unless it is UTF-8 */
#define OPT_TEXT(l, v, a, h) \
	{ OPTION_STRING, (l), (v), (a), (h), PARSE_OPT_TEXT, 0, 0 }
#define OPT_INT(l, v, a, h, lo, hi) \
	{ OPTION_INTEGER, (l), (v), (a), (h), 0, (lo), (hi) }
/* repeatable free text (UTF-8): each value pushed to a struct strvec */
#define OPT_TEXT_LIST(l, v, a, h) \
	{ OPTION_STRING_LIST, (l), (v), (a), (h), PARSE_OPT_TEXT, 0, 0 }
#define OPT_ALIAS_STRING(l, v, a) \
	{ OPTION_STRING, (l), (v), (a), NULL, PARSE_OPT_HIDDEN, 0, 0 }
#define OPT_JSON(v) OPT_BOOL("json", (v), "print one JSON object")
#define OPT_END() { OPTION_END, NULL, NULL, NULL, NULL, 0, 0, 0 }

/*
 * Parse argv[0..argc) (what follows the command's name) against opts.
 * Operands, wherever they stand, are moved to the front of argv in their
 * order; their number is returned.  "--" ends the options; "-" is an
 * operand.  -h prints the usage and the options to stdout and exits 129;
 * --help opens the manual page `man` (git help); an unknown or malformed
 * option is a usage error (exit 129) naming it, with a suggestion when
 * it looks like a typo of one that exists.
 */
int parse_options(int argc, const char **argv,
		  const struct thrum_option *opts,
		  const char *const *usagestr, const char *man);

/* the usage lines, a blank line and the option list, to f */
void usage_with_options_to(FILE *f, const char *const *usagestr,
			   const struct thrum_option *opts);

/* print the usage (with options) to stderr after an error; exit 129 */
NORETURN void usage_with_options(const char *const *usagestr,
				 const struct thrum_option *opts);
NORETURN PRINTF_LIKE(3, 4) void usage_opt_msg(const char *const *usagestr,
		const struct thrum_option *opts, const char *fmt, ...);

/* open the manual page git-<page>(1), as `git help <page>` does */
NORETURN void show_man_page(const char *page);

/*
 * The closest of names[0..nr) to s, as git finds a mistyped command:
 * NULL when none is close enough to be what was meant.
 */
const char *closest_name(const char *s, const char *const *names, size_t nr);

#endif
