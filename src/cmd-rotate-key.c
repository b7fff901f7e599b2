/*
 * git thrum agent rotate-key: a new key pair for one of my agents,
 * announced by an agent.register that names the new key and is signed
 * by the old one, the rotation every clone accepts
 * (Documentation/security.adoc, "Rotation and a lost key").  The old key
 * file is replaced only once that line is durable (core_rotate_key()).
 */
#include "thrum.h"
#include <json-c/json.h>
#include "cmd.h"
#include "core.h"
#include "event.h"
#include "format.h"
#include "identity.h"
#include "parse-options.h"
#include "sign.h"
#include "strbuf.h"
#include "usage.h"

const struct cmd_args agent_rotate_key_args = {
	{ "git thrum agent rotate-key [<name>] [--json]" },
	cmd_json_options, 0, 1
};

static void fingerprint(const char *pk, struct strbuf *out)
{
	if (sign_fingerprint(pk, out) < 0)
		strbuf_addstr(out, pk);
}

int cmd_agent_rotate_key(int argc, const char **argv, struct thrum_ctx *ctx)
{
	struct strbuf old_pk = STRBUF_INIT, new_pk = STRBUF_INIT;
	struct strbuf old_fp = STRBUF_INIT, new_fp = STRBUF_INIT;
	struct strbuf sb = STRBUF_INIT;
	struct identity id = IDENTITY_INIT;
	struct core as;
	const char *why = NULL;
	int r, ret = 1;

	if (argc && !event_valid_name(argv[0], &why))
		usage_opt_msg(agent_rotate_key_args.usage, cmd_json_options,
			      "invalid agent name '%s': %s",
			      format_safe(&sb, argv[0]), why);
	if (!argc && ctx_need_me(ctx) < 0)
		goto out;
	as = *ctx_core(ctx);
	if (argc) {
		r = identity_load(&ctx->repo, argv[0], &id);
		if (r == THRUM_ENOTFOUND)
			error("'%s' is not an agent of this work tree: only "
			      "those with an identity here have a key here",
			      argv[0]);
		if (r < 0)
			goto out;
		as.me = &id;
		as.me_is_user = 0;
	}
	r = core_rotate_key(&as, &old_pk, &new_pk);
	ctx->core.appended |= as.appended;
	if (r < 0)
		goto out;
	fingerprint(old_pk.buf, &old_fp);
	fingerprint(new_pk.buf, &new_fp);
	if (cmd_json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "agent_id",
				       json_object_new_string(as.me->agent_id));
		json_object_object_add(o, "old_key",
				       json_object_new_string(old_fp.buf));
		json_object_object_add(o, "new_key",
				       json_object_new_string(new_fp.buf));
		format_json(o, stdout);
	} else {
		printf("rotated the key of '%s': %s, was %s\n",
		       format_safe(&sb, as.me->name), new_fp.buf, old_fp.buf);
	}
	ret = 0;
out:
	identity_release(&id);
	strbuf_release(&old_pk);
	strbuf_release(&new_pk);
	strbuf_release(&old_fp);
	strbuf_release(&new_fp);
	strbuf_release(&sb);
	return ret;
}
