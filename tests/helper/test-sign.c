/*
 * test-sign: what a hostile clone with its own key can write, for the
 * shell tests of signed events (t5010).
 *
 *   test-sign keygen <keyfile>     a new key pair (mode 0600)
 *   test-sign pubkey <keyfile>     print "ed25519:<base64>"
 *   test-sign sign <keyfile>       each line of stdin, re-encoded and
 *                                  signed with the key, to stdout; with
 *                                  TEST_SIGN_PUBKEY set, an agent.register
 *                                  names that key ("ed25519:..." text)
 *   test-sign check                "good", "bad" or "unsigned" for each
 *                                  line of stdin
 */
#include "thrum.h"
#include "event.h"
#include "sign.h"
#include "strbuf.h"
#include "usage.h"
#include "wrapper.h"

static int sign_lines(const char *keyfile)
{
	struct strbuf line = STRBUF_INIT, out = STRBUF_INIT;
	const char *pub = getenv("TEST_SIGN_PUBKEY");
	struct sign_key k;
	int ret = 0;

	if (sign_key_load(keyfile, &k) < 0)
		return 1;
	while (strbuf_getline(&line, stdin) != EOF) {
		struct event ev = EVENT_INIT;
		const char *why;

		if (event_parse(&ev, line.buf, line.len, 0, &why) < 0) {
			error("cannot parse '%s': %s", line.buf, why);
			ret = 1;
			break;
		}
		if (pub && ev.type == EV_AGENT_REGISTER) {
			free(ev.pubkey);
			ev.pubkey = xstrdup(pub);
		}
		strbuf_reset(&out);
		if (event_serialize_signed(&ev, &out, &k) < 0) {
			error("cannot sign '%s'", line.buf);
			ret = 1;
		}
		event_release(&ev);
		if (ret)
			break;
		puts(out.buf);
	}
	strbuf_release(&line);
	strbuf_release(&out);
	return ret;
}

static int check_lines(void)
{
	static const char *const states[] = { "unsigned", "good", "bad" };
	struct strbuf line = STRBUF_INIT;

	while (strbuf_getline(&line, stdin) != EOF) {
		struct event ev = EVENT_INIT;

		if (event_parse(&ev, line.buf, line.len, EVENT_PARSE_VERIFY,
				NULL) < 0)
			puts("unparseable");
		else
			puts(states[ev.sig_state]);
		event_release(&ev);
	}
	strbuf_release(&line);
	return 0;
}

int main(int argc, char **argv)
{
	struct strbuf sb = STRBUF_INIT;
	struct sign_key k;

	if (argc == 3 && !strcmp(argv[1], "keygen"))
		return sign_keygen(&k) || sign_key_save(argv[2], &k);
	if (argc == 3 && !strcmp(argv[1], "pubkey")) {
		if (sign_key_load(argv[2], &k) < 0)
			return 1;
		sign_pubkey_text(k.pk, &sb);
		puts(sb.buf);
		strbuf_release(&sb);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "sign"))
		return sign_lines(argv[2]);
	if (argc == 2 && !strcmp(argv[1], "check"))
		return check_lines();
	fprintf(stderr, "usage: test-sign (keygen|pubkey|sign) <keyfile> | "
		"test-sign check\n");
	return 129;
}
