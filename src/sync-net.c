/*
 * sync-net.c: the network step of a sync cycle, through the user's git.
 *
 * Invariants:
 *  - fetch and push run `git` (the user's remotes, credentials, helpers
 *    and ssh configuration apply), killed with everything they started
 *    after thrum.networkTimeout;
 *  - a failure is described by git's own first line (or our timeout).
 */
#include "thrum.h"
#include "sync-net.h"
#include "config.h"
#include "repo.h"
#include "run-command.h"
#include "strbuf.h"
#include "strvec.h"
#include "wrapper.h"

static void network_child(struct child_process *cp, const struct repo *r,
			  const struct thrum_config *cfg)
{
	cp->git_cmd = 1;
	cp->dir = r->worktree;
	cp->clean_git_env = 1;
	cp->no_stdin = 1;
	cp->stderr_to_stdout = 1;
	/* our own hooks must not start another cycle */
	strvec_push(&cp->env, "THRUM_IN_HOOK=1");
	/* never wait for a password nobody will type */
	strvec_push(&cp->env, "GIT_TERMINAL_PROMPT=0");
	/* nor for a remote that never answers */
	cp->timeout_ms = (int)(cfg->network_timeout > 86400 ? 86400
				: cfg->network_timeout) * 1000;
}

/* the first line of git's output, for status and error messages */
static char *first_line(const struct strbuf *out, const char *fallback)
{
	const char *p = out->buf;

	while (*p == '\n')
		p++;
	if (!*p)
		return xstrdup(fallback);
	return xstrndup(p, strcspn(p, "\n"));
}

/* what went wrong with a git child, for status and messages */
static char *net_error(const struct child_process *cp, const struct strbuf *out,
		       const char *what, long timeout)
{
	if (cp->timed_out)
		return xstrfmt("%s did not finish within %lds "
			       "(thrum.networkTimeout)", what, timeout);
	return first_line(out, what);
}

enum net_result sync_fetch(const struct repo *r,
			   const struct thrum_config *cfg, char **err)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	struct strbuf out = STRBUF_INIT;
	enum net_result res = NET_OK;

	network_child(&cp, r, cfg);
	/*
	 * no auto-maintenance after every fetch of one small branch: the
	 * daemon runs `git gc --auto` itself every few cycles
	 */
	strvec_pushl(&cp.args, "fetch", "--quiet", "--no-write-fetch-head",
		     "--no-tags", "--no-auto-maintenance", cfg->remote, NULL);
	strvec_pushf(&cp.args, "+refs/heads/a-sync:refs/remotes/%s/a-sync",
		     cfg->remote);
	if (capture_command(&cp, &out, NULL)) {
		if (!cp.timed_out && strstr(out.buf, "couldn't find remote ref"))
			res = NET_NO_BRANCH;	/* the first push makes it */
		else
			res = NET_FAILED;
		*err = net_error(&cp, &out, "git fetch", cfg->network_timeout);
	}
	strbuf_release(&out);
	return res;
}

enum net_result sync_push(const struct repo *r,
			  const struct thrum_config *cfg, char **err)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	struct strbuf out = STRBUF_INIT;
	enum net_result res = NET_OK;

	network_child(&cp, r, cfg);
	strvec_pushl(&cp.args, "push", "--porcelain", "--no-verify",
		     cfg->remote, "refs/heads/a-sync:refs/heads/a-sync", NULL);
	if (capture_command(&cp, &out, NULL)) {
		/* porcelain: "!\t<src>:<dst>\t[rejected] (fetch first)" */
		if (!cp.timed_out && (strstr(out.buf, "\n!\t") ||
				      !strncmp(out.buf, "!\t", 2)))
			res = NET_REJECTED;
		else
			res = NET_FAILED;
		*err = net_error(&cp, &out, "git push", cfg->network_timeout);
	}
	strbuf_release(&out);
	return res;
}
