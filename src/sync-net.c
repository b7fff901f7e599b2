/*
 * sync-net.c: the network step of a sync cycle, through the user's git.
 *
 * Invariants:
 *  - fetch and push run `git` (the user's remotes, credentials, helpers
 *    and ssh configuration apply, no hooks), killed with everything they
 *    started after thrum.networkTimeout;
 *  - a failure is classified from git's own words (and our timeout) into
 *    one of the states of sync.h, and described by the line of git's
 *    output that says it;
 *  - only a command the user typed (SYNC_INTERACTIVE) may prompt; the
 *    daemon's and the hooks' git never prompts, never waits for a
 *    terminal, and never makes a credential helper erase what it gave.
 */
#include "thrum.h"
#include "sync-net.h"
#include "clock.h"
#include "config.h"
#include "gitx.h"
#include "repo.h"
#include "run-command.h"
#include "strbuf.h"
#include "strvec.h"
#include "sync.h"
#include "sync-internal.h"
#include "wrapper.h"

/* a fetch that takes longer than this says so, on a terminal */
#define SLOW_NOTICE_MS 3000
/* a ref lock held by a concurrent git fetch: tries before "busy" */
#define LOCKED_ATTEMPTS 3
#define LOCKED_PAUSE_MS 100

/* a pause before the next try: attempt * 100 ms */
static void pause_before(int attempt)
{
	sleep_ms(attempt * LOCKED_PAUSE_MS);
}

/*
 * An unattended git must not erase the user's stored credential: after
 * a 401 git tells every credential helper to "erase" what it gave, so a
 * server that says no once (or a password changed elsewhere) would cost
 * the user their stored password, with nobody there to type it again.
 * So git's helpers are replaced, through the environment (GIT_CONFIG_COUNT
 * comes before any `git -c`, and an empty credential.helper empties the
 * list), by `git-thrum hook credential`, which hands "get" and "store" to
 * `git credential fill|approve` with the user's own configuration and
 * drops "erase".  THRUM_CONFIG_COUNT tells it how many entries were the
 * user's.
 */
static void guard_credentials(struct child_process *cp)
{
	const char *count = getenv("GIT_CONFIG_COUNT");
	struct strbuf helper = STRBUF_INIT;
	char self[PATH_MAX];
	const char *p;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	long have = 0;

	if (n < 0 || (count && *count &&
		      thrum_parse_long(count, 0, INT_MAX - 2, &have) < 0))
		return;		/* git's own helpers: they may erase */
	self[n] = '\0';
	/* "!" runs a shell command: the path in single quotes */
	strbuf_addstr(&helper, "!'");
	for (p = self; *p; p++)
		if (*p == '\'')
			strbuf_addstr(&helper, "'\\''");
		else
			strbuf_addch(&helper, *p);
	strbuf_addstr(&helper, "' hook credential");
	strvec_pushf(&cp->env, "THRUM_CONFIG_COUNT=%ld", have);
	strvec_pushf(&cp->env, "GIT_CONFIG_COUNT=%ld", have + 2);
	strvec_pushf(&cp->env, "GIT_CONFIG_KEY_%ld=credential.helper", have);
	strvec_pushf(&cp->env, "GIT_CONFIG_VALUE_%ld=", have);
	strvec_pushf(&cp->env, "GIT_CONFIG_KEY_%ld=credential.helper",
		     have + 1);
	strvec_pushf(&cp->env, "GIT_CONFIG_VALUE_%ld=%s", have + 1,
		     helper.buf);
	strbuf_release(&helper);
}

/*
 * Someone may answer a prompt: a command the user typed, reading from
 * and writing to a terminal.  A program that runs sync force with pipes
 * (an agent) may still have a controlling terminal nobody watches.
 */
static int can_prompt(unsigned flags)
{
	return (flags & SYNC_INTERACTIVE) && isatty(0) && isatty(2);
}

static void network_child(struct child_process *cp, const struct repo *r,
			  const struct thrum_config *cfg, unsigned flags,
			  const char *what, struct strbuf *notice)
{
	cp->git_cmd = 1;
	cp->dir = r->worktree;
	cp->clean_git_env = 1;
	cp->no_stdin = 1;
	cp->stderr_to_stdout = 1;
	/*
	 * No hooks: the tracking ref our fetch and push move is ours, as
	 * a-sync is (which libgit2 moves without hooks), and the push skips
	 * pre-push already (--no-verify).  Each active cycle would otherwise
	 * start four shells for reference-transaction, in the window in
	 * which another clone's push can beat ours.  THRUM_IN_HOOK stays for
	 * a hook run anyway (a git that ignores core.hooksPath): it must not
	 * start another cycle.
	 */
	strvec_pushl(&cp->args, "-c", "core.hooksPath=/dev/null", NULL);
	strvec_push(&cp->env, "THRUM_IN_HOOK=1");
	if (can_prompt(flags)) {
		const char *ms = getenv("THRUM_TEST_SLOW_MS");
		long n;

		/*
		 * the user is there: git and ssh prompt on the terminal,
		 * which the child gets as the foreground job (a background
		 * ssh would be stopped by SIGTTIN before it could ask)
		 */
		cp->foreground = 1;
		strbuf_addf(notice, "thrum: waiting for '%s' (%s; at most "
			    "%lds, thrum.networkTimeout)", cfg->remote, what,
			    cfg->network_timeout);
		cp->slow_notice = notice->buf;
		cp->slow_ms = ms && !thrum_parse_long(ms, 1, INT_MAX, &n) ?
			      (int)n : SLOW_NOTICE_MS;
	} else {
		/*
		 * never wait for a password nobody will type: no terminal
		 * prompt, no askpass program (an empty GIT_ASKPASS turns
		 * off core.askPass and SSH_ASKPASS too), and no controlling
		 * terminal, so ssh fails at once where it would ask
		 */
		strvec_push(&cp->env, "GIT_TERMINAL_PROMPT=0");
		strvec_push(&cp->env, "GIT_ASKPASS=");
		strvec_push(&cp->env, "SSH_ASKPASS_REQUIRE=never");
		cp->no_tty = 1;
		guard_credentials(cp);
	}
	/* nor for a remote that never answers */
	cp->timeout_ms = (int)(cfg->network_timeout > 86400 ? 86400
				: cfg->network_timeout) * 1000;
}

/* the first line of git's output, for status and error messages */
static char *first_line(const struct strbuf *out, const char *fallback)
{
	const char *p = out->buf;

	while (*p == '\n' || *p == '\r')
		p++;
	if (!*p)
		return xstrdup(fallback);
	return xstrndup(p, strcspn(p, "\r\n"));
}

/*
 * What git (curl, ssh) says when the network fails, and its class; the
 * first that matches wins, so the specific come before the generic.
 */
static const struct net_class {
	const char *needle;
	enum sync_state state;
} net_classes[] = {
	{ "cannot lock ref", SYNC_BUSY },
	{ ".lock': File exists", SYNC_BUSY },
	{ "Could not resolve host", SYNC_OFFLINE },
	{ "Temporary failure in name resolution", SYNC_OFFLINE },
	{ "Name or service not known", SYNC_OFFLINE },
	{ "Network is unreachable", SYNC_OFFLINE },
	{ "No route to host", SYNC_OFFLINE },
	{ "Connection refused", SYNC_REFUSED },
	{ "Couldn't connect to server", SYNC_REFUSED },	/* curl's */
	{ "timed out", SYNC_TIMEOUT },
	{ "Authentication failed", SYNC_AUTH },
	{ "Permission denied", SYNC_AUTH },
	{ "Host key verification failed", SYNC_AUTH },
	{ "terminal prompts disabled", SYNC_AUTH },
	{ "could not read Username", SYNC_AUTH },
	{ "could not read Password", SYNC_AUTH },
	{ "returned error: 401", SYNC_AUTH },
	{ "returned error: 403", SYNC_AUTH },
	{ "does not appear to be a git repository", SYNC_ERROR },
	{ "No such remote", SYNC_ERROR },
	{ "returned error: 404", SYNC_ERROR },
	{ "not found", SYNC_ERROR },
	{ "hung up unexpectedly", SYNC_OFFLINE },
	{ "Connection reset", SYNC_OFFLINE },
};

/* the line of out that holds needle */
static char *line_with(const struct strbuf *out, const char *needle)
{
	const char *hit = strstr(out->buf, needle), *bol = hit;

	while (bol > out->buf && bol[-1] != '\n' && bol[-1] != '\r')
		bol--;
	return xstrndup(bol, strcspn(hit, "\r\n") + (hit - bol));
}

/*
 * What went wrong with a git child, for status and messages: *state
 * receives its class (SYNC_ERROR when none matches).
 */
static char *net_error(const struct child_process *cp, const struct strbuf *out,
		       const char *what, const struct thrum_config *cfg,
		       unsigned flags, enum sync_state *state)
{
	size_t i;
	char *line, *msg;

	if (cp->timed_out) {
		*state = SYNC_TIMEOUT;
		return xstrfmt("%s did not finish within %lds "
			       "(thrum.networkTimeout)", what,
			       cfg->network_timeout);
	}
	for (i = 0; i < ARRAY_SIZE(net_classes); i++)
		if (strstr(out->buf, net_classes[i].needle))
			break;
	if (i == ARRAY_SIZE(net_classes)) {
		*state = SYNC_ERROR;
		return first_line(out, what);
	}
	*state = net_classes[i].state;
	line = line_with(out, net_classes[i].needle);
	switch (*state) {
	case SYNC_ERROR:
		msg = xstrfmt("%s; check thrum.remote ('%s') and 'git remote "
			      "-v'", line, cfg->remote);
		break;
	case SYNC_BUSY:
		/* git's line names the lock file's whole path: too long */
		msg = xstrfmt("cannot lock ref 'refs/remotes/%s/a-sync': a "
			      "concurrent git fetch or pull holds it; try "
			      "again", cfg->remote);
		break;
	case SYNC_AUTH:
		msg = can_prompt(flags) ? xstrdup(line) :
		      flags & SYNC_INTERACTIVE ?
		      xstrfmt("%s; nothing prompts without a terminal",
			      line) :
		      xstrfmt("%s; the daemon and the hooks never prompt: "
			      "'git thrum sync force' can", line);
		break;
	default:
		msg = xstrdup(line);
		break;
	}
	free(line);
	return msg;
}

enum net_result sync_fetch(const struct repo *r,
			   const struct thrum_config *cfg, unsigned flags,
			   int clones, char **err, enum sync_state *failed)
{
	struct strbuf out = STRBUF_INIT, notice = STRBUF_INIT;
	enum net_result res;
	int attempt;

	for (attempt = 1; ; attempt++) {
		struct child_process cp = CHILD_PROCESS_INIT;

		strbuf_reset(&out);
		strbuf_reset(&notice);
		network_child(&cp, r, cfg, flags, "git fetch", &notice);
		/*
		 * no auto-maintenance after every fetch of one small
		 * branch: the daemon runs `git gc --auto` itself every few
		 * cycles
		 */
		/*
		 * what a cycle brings (a few commits, trees and segments)
		 * kept as one pack, not exploded into a file per object:
		 * the loose objects of hundreds of small fetches make every
		 * later lookup, ours and git's, walk full directories
		 * (`git gc --auto`, which the daemon runs, packs them)
		 */
		strvec_pushl(&cp.args, "-c", "fetch.unpackLimit=1", NULL);
		strvec_pushl(&cp.args, "fetch", "--quiet",
			     "--no-write-fetch-head", "--no-tags",
			     "--no-auto-maintenance", NULL);
		/*
		 * clone refs are forced at will: git's walk to tell which
		 * update was forced (to print it, which --quiet does not)
		 * is time in the window
		 */
		if (clones)
			strvec_push(&cp.args, "--no-show-forced-updates");
		strvec_push(&cp.args, cfg->remote);
		strvec_pushf(&cp.args,
			     "+refs/heads/a-sync:refs/remotes/%s/a-sync",
			     cfg->remote);
		/* every clone's ref; ours is rewritten, so forced */
		if (clones)
			strvec_pushf(&cp.args, "+" CLONE_REF_PREFIX "*:"
				     "refs/thrum/remotes/%s/*", cfg->remote);
		res = NET_OK;
		if (!capture_command(&cp, &out, NULL))
			break;
		free(*err);
		if (!cp.timed_out &&
		    strstr(out.buf, "couldn't find remote ref")) {
			res = NET_NO_BRANCH;	/* the first push makes it */
			*err = first_line(&out, "git fetch");
			break;
		}
		res = NET_FAILED;
		*err = net_error(&cp, &out, "git fetch", cfg, flags, failed);
		/*
		 * a concurrent `git fetch` or `git pull` holds the tracking
		 * ref's lock for a moment: try again, then say busy
		 */
		if (*failed != SYNC_BUSY || attempt == LOCKED_ATTEMPTS)
			break;
		pause_before(attempt);
	}
	strbuf_release(&out);
	strbuf_release(&notice);
	return res;
}

/*
 * Did a push lose a race (the reason git's porcelain gives after the
 * tab): the remote moved since our fetch, or another push held the ref
 * at that instant.  Anything else is the remote's policy.
 */
static int push_race(const char *why)
{
	static const char *const races[] = {
		"(fetch first)", "(non-fast-forward)", "(stale info)",
		"(failed to update ref)", "(failed to lock)",
		"(incorrect old value provided)",
	};
	size_t i;

	for (i = 0; why && i < ARRAY_SIZE(races); i++)
		if (strstr(why, races[i]))
			return 1;
	return 0;
}

/*
 * The porcelain line of a pushed ref: "<flag>\t<src>:<dst>\t<summary>";
 * flag '!' is a rejection.  NULL when git printed none for it.
 */
static const char *porcelain_line(const struct strbuf *out,
				  const struct push_ref *ref, size_t *len)
{
	struct strbuf needle = STRBUF_INIT;
	const char *hit, *bol;

	strbuf_addf(&needle, "\t%s:%s\t", ref->src, ref->dst);
	hit = strstr(out->buf, needle.buf);
	strbuf_release(&needle);
	if (!hit || hit == out->buf)
		return NULL;
	bol = hit - 1;
	if (bol > out->buf && bol[-1] != '\n')
		return NULL;
	*len = strcspn(bol, "\r\n");
	return bol;
}

enum net_result sync_push_refs(const struct repo *r,
			       const struct thrum_config *cfg, unsigned flags,
			       struct push_ref *refs, size_t nr, char **err,
			       enum sync_state *failed)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	struct strbuf out = STRBUF_INIT, notice = STRBUF_INIT;
	enum net_result res = NET_OK;
	size_t i, answered = 0;
	int rc;

	network_child(&cp, r, cfg, flags, "git push", &notice);
	strvec_pushl(&cp.args, "push", "--porcelain", "--no-verify", NULL);
	for (i = 0; i < nr; i++)
		if (refs[i].lease)
			strvec_pushf(&cp.args, "--force-with-lease=%s:%s",
				     refs[i].dst, refs[i].lease);
	strvec_push(&cp.args, cfg->remote);
	/* no "+": it would force past the lease */
	for (i = 0; i < nr; i++)
		strvec_pushf(&cp.args, "%s:%s", refs[i].src, refs[i].dst);
	rc = capture_command(&cp, &out, NULL);
	for (i = 0; i < nr; i++) {
		size_t len = 0;
		const char *line = cp.timed_out ? NULL
				   : porcelain_line(&out, &refs[i], &len);
		const char *why;

		free(refs[i].why);
		refs[i].why = NULL;
		refs[i].res = NET_FAILED;
		if (!line)
			continue;
		answered++;
		if (*line != '!') {
			refs[i].res = NET_OK;
			continue;
		}
		refs[i].why = xstrndup(line, len);
		why = strrchr(refs[i].why, '\t');
		refs[i].res = push_race(why) ? NET_REJECTED : NET_REFUSED;
		if (why) {
			char *w = xstrdup(why + 1);

			free(refs[i].why);
			refs[i].why = w;
		}
	}
	if (rc && answered < nr) {
		/* no answer for a ref: the push did not get through */
		free(*err);
		*err = net_error(&cp, &out, "git push", cfg, flags, failed);
		res = NET_FAILED;
	}
	strbuf_release(&out);
	strbuf_release(&notice);
	return res;
}

enum net_result sync_push(const struct repo *r,
			  const struct thrum_config *cfg, unsigned flags,
			  char **err, enum sync_state *failed)
{
	struct push_ref ref = { GITX_SYNC_REF, GITX_SYNC_REF, NULL };
	enum net_result res;

	res = sync_push_refs(r, cfg, flags, &ref, 1, err, failed);
	if (res == NET_OK && ref.res != NET_OK) {
		res = ref.res;
		free(*err);
		if (res == NET_FAILED) {
			*failed = SYNC_ERROR;
			*err = xstrdup("git push said nothing of a-sync");
		} else {
			*failed = SYNC_REJECTED;
			*err = xstrfmt("git push: %s", ref.why);
		}
	}
	free(ref.why);
	return res;
}
