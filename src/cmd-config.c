/*
 * git thrum config: every effective thrum.* setting and where it came from
 * (git-thrum(1), CONFIGURATION): the environment, a git config scope (command
 * for `git -c`), .thrum/config, or the default. Read-only: settings are
 * changed with `git config`.
 */
#include "thrum.h"
#include <json-c/json.h>
#include "format.h"
#include "cmd.h"
#include "parse-options.h"
#include "config.h"
#include "usage.h"



const struct cmd_args config_args = {
	{ "git thrum config [--json]" }, cmd_json_options
};

static void describe(const struct config_value *cv, char *buf, size_t len)
{
	switch (cv->source) {
	case CONFIG_GIT:
		snprintf(buf, len, "git config (%s)",
			 cv->origin ? cv->origin : "?");
		break;
	case CONFIG_ENV:
		snprintf(buf, len, "environment (%s)", cv->origin);
		break;
	case CONFIG_THRUM_FILE:
		snprintf(buf, len, ".thrum/config");
		break;
	case CONFIG_FLAG:
		snprintf(buf, len, "command line");
		break;
	default:
		snprintf(buf, len, "default");
		break;
	}
}

int cmd_config(int argc, const char **argv, struct thrum_ctx *ctx)
{
	json_object *o = NULL;
	int i;

	if (cmd_json)
		o = json_object_new_object();
	for (i = 0; i < CFG_KEY_MAX; i++) {
		const struct config_value *cv = &ctx->cfg.v[i];
		char from[256];

		describe(cv, from, sizeof(from));
		if (cmd_json) {
			json_object *e = json_object_new_object();

			json_object_object_add(e, "value", cv->value ?
				json_object_new_string(cv->value) : NULL);
			json_object_object_add(e, "source",
				json_object_new_string(config_source_name(cv->source)));
			json_object_object_add(e, "origin", cv->origin ?
				json_object_new_string(cv->origin) : NULL);
			json_object_object_add(o, config_key_name(i), e);
		} else {
			printf("%s=%s\t(%s)\n", config_key_name(i),
			       cv->value ? cv->value : "", from);
		}
	}
	if (cmd_json) {
		format_json(o, stdout);
	}
	return 0;
}
