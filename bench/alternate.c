/*
 * bench/alternate: time commands in turn, one run of each per round, and
 * write what hyperfine's --export-csv writes (seconds).
 *
 *	alternate [--runs N] [--warmup N] [--prepare CMD] --export-csv FILE
 *		  [-n NAME] CMD...
 *
 * Why not hyperfine: it times all runs of one command, then all of the
 * next, so whatever drifts on a shared machine during a row (the page
 * cache, another process, the disk's flushing) lands on one command and
 * not its reference, and a ratio of two medians a few milliseconds long
 * moves by a third from one run to the next.  Run in turn, both see the
 * same machine.
 *
 * Each command runs as `sh -c 'exec CMD'` with stdin, stdout and stderr
 * on /dev/null (redirections in CMD apply); an empty shell, `sh -c ''`,
 * runs in each round too, and its median and CPU are subtracted, as
 * hyperfine subtracts the shell it starts.  --prepare runs before every
 * run of a command (not of the empty shell), untimed.  A command that exits non-zero stops everything.
 */
#define _DEFAULT_SOURCE		/* wait4() */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct cmd {
	const char *name;
	char *line;		/* exec CMD */
	double *wall, *user, *sys;
};

static int devnull = -1;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static double secs(const struct timeval *tv)
{
	return tv->tv_sec + tv->tv_usec / 1e6;
}

/* run line with sh; its wall and CPU time; -1 when it failed */
static int run(const char *line, double *wall, double *user, double *sys)
{
	char *argv[] = { "sh", "-c", (char *)line, NULL };
	posix_spawn_file_actions_t fa;
	struct rusage ru;
	double start;
	pid_t pid;
	int status, rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, devnull, 0);
	posix_spawn_file_actions_adddup2(&fa, devnull, 1);
	posix_spawn_file_actions_adddup2(&fa, devnull, 2);
	start = now();
	rc = posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc) {
		fprintf(stderr, "alternate: cannot run sh: %s\n", strerror(rc));
		return -1;
	}
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR)
			return -1;
	if (wall)
		*wall = now() - start;
	if (user)
		*user = secs(&ru.ru_utime);
	if (sys)
		*sys = secs(&ru.ru_stime);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "alternate: '%s' failed (status %d)\n", line,
			status);
		return -1;
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double mean(const double *v, int n)
{
	double sum = 0;
	int i;

	for (i = 0; i < n; i++)
		sum += v[i];
	return sum / n;
}

static double stddev(const double *v, int n)
{
	double m = mean(v, n), sum = 0;
	int i;

	for (i = 0; i < n; i++)
		sum += (v[i] - m) * (v[i] - m);
	return n > 1 ? sqrt(sum / (n - 1)) : 0;
}

static void usage(void)
{
	fputs("usage: alternate [--runs N] [--warmup N] [--prepare CMD] "
	      "--export-csv FILE [-n NAME] CMD...\n", stderr);
	exit(129);
}

static int count(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > 100000)
		usage();
	return (int)v;
}

/* the CSV quoting of a field */
static void field(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

int main(int argc, char **argv)
{
	struct cmd *cmds = calloc(argc + 1, sizeof(*cmds)), *shell;
	const char *csv = NULL, *prepare = NULL, *name = NULL;
	int runs = 10, warmup = 3, nr = 0, i, r;
	FILE *out;

	if (!cmds)
		return 1;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			runs = count(argv[++i]);
		else if (!strcmp(argv[i], "--warmup") && i + 1 < argc)
			warmup = count(argv[++i]);
		else if (!strcmp(argv[i], "--prepare") && i + 1 < argc)
			prepare = argv[++i];
		else if (!strcmp(argv[i], "--export-csv") && i + 1 < argc)
			csv = argv[++i];
		else if (!strcmp(argv[i], "-n") && i + 1 < argc)
			name = argv[++i];
		else if (argv[i][0] == '-')
			usage();
		else {
			size_t len = strlen(argv[i]) + 6;

			cmds[nr].name = name ? name : argv[i];
			cmds[nr].line = malloc(len);
			if (!cmds[nr].line)
				return 1;
			snprintf(cmds[nr].line, len, "exec %s", argv[i]);
			nr++;
			name = NULL;
		}
	}
	if (!csv || !nr || runs < 1 || warmup < 0)
		usage();
	shell = &cmds[nr];
	shell->name = "shell";
	shell->line = "";
	for (i = 0; i <= nr; i++) {
		cmds[i].wall = calloc(runs, sizeof(double));
		cmds[i].user = calloc(runs, sizeof(double));
		cmds[i].sys = calloc(runs, sizeof(double));
		if (!cmds[i].wall || !cmds[i].user || !cmds[i].sys)
			return 1;
	}
	devnull = open("/dev/null", O_RDWR);
	if (devnull < 0)
		return 1;
	for (r = -warmup; r < runs; r++)
		for (i = 0; i <= nr; i++) {
			struct cmd *c = &cmds[i];
			double w, u, s;

			if (prepare && c != shell &&
			    run(prepare, NULL, NULL, NULL) < 0)
				return 1;
			if (run(c->line, &w, &u, &s) < 0)
				return 1;
			if (r < 0)
				continue;
			c->wall[r] = w;
			c->user[r] = u;
			c->sys[r] = s;
		}
	if (!(out = fopen(csv, "w")))
		return 1;
	fputs("command,mean,stddev,median,user,system,min,max\n", out);
	{
		double sh_wall = median(shell->wall, runs);
		double sh_user = mean(shell->user, runs);
		double sh_sys = mean(shell->sys, runs);

		for (i = 0; i < nr; i++) {
			struct cmd *c = &cmds[i];
			double m = mean(c->wall, runs) - sh_wall;
			double sd = stddev(c->wall, runs);
			double u = mean(c->user, runs) - sh_user;
			double s = mean(c->sys, runs) - sh_sys;
			double med;

			med = median(c->wall, runs) - sh_wall;
			field(out, c->name);
			fprintf(out, ",%.9f,%.9f,%.9f,%.9f,%.9f,%.9f,%.9f\n",
				m, sd, med, u > 0 ? u : 0, s > 0 ? s : 0,
				c->wall[0] - sh_wall,
				c->wall[runs - 1] - sh_wall);
		}
	}
	return fclose(out) ? 1 : 0;
}
