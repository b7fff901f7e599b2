/* sign: key files, signatures, and signed lines of the event codec */
#include "unit.h"
#include "unit-scratch.h"
#include "sign.h"
#include "event.h"
#include "strbuf.h"
#include "usage.h"

static void make_event(struct event *ev)
{
	assert_int_equal(event_init_new(ev, EV_MESSAGE_CREATE, "d_test"), 0);
	ev->message_id = strdup("msg_1");
	ev->agent_id = strdup("alice");
	ev->session_id = strdup("ses_1");
	ev->body_content = strdup("hello \"world\" \\ é");
	event_add_scope(ev, "module", "core");
}

static void test_key_file(void **state)
{
	char dir[] = "/tmp/t-sign-XXXXXX", *path;
	struct sign_key k, back;

	(void)state;
	assert_non_null(mkdtemp(dir));
	path = xstrfmt("%s/alice.key", dir);
	assert_int_equal(sign_key_load(path, &back), THRUM_ENOTFOUND);
	assert_int_equal(sign_keygen(&k), 0);
	assert_int_equal(sign_key_save(path, &k), 0);
	assert_int_equal(sign_key_load(path, &back), 0);
	assert_memory_equal(k.pk, back.pk, sizeof(k.pk));
	assert_memory_equal(k.sk, back.sk, sizeof(k.sk));
	/* a key others can read is refused, as ssh does */
	assert_int_equal(chmod(path, 0644), 0);
	set_error_quiet(1);
	assert_int_equal(sign_key_load(path, &back), THRUM_EINVALID);
	set_error_quiet(0);
	free(path);
	unit_rm_rf(dir);
}

static void test_pubkey_text(void **state)
{
	struct strbuf sb = STRBUF_INIT, fp = STRBUF_INIT;
	unsigned char pk[SIGN_PK_BYTES];
	struct sign_key k;

	(void)state;
	assert_int_equal(sign_keygen(&k), 0);
	sign_pubkey_text(k.pk, &sb);
	assert_int_equal(sb.len, SIGN_PUBKEY_TEXT_MAX);
	assert_memory_equal(sb.buf, "ed25519:", 8);
	assert_int_equal(sign_pubkey_parse(sb.buf, pk), 0);
	assert_memory_equal(pk, k.pk, sizeof(pk));
	assert_int_equal(sign_pubkey_parse("ed25519:abc", pk), THRUM_EINVALID);
	assert_int_equal(sign_pubkey_parse(sb.buf + 1, pk), THRUM_EINVALID);
	assert_int_equal(sign_fingerprint(sb.buf, &fp), 0);
	assert_memory_equal(fp.buf, "SHA256:", 7);
	assert_int_equal(fp.len, 7 + 43);
	strbuf_release(&sb);
	strbuf_release(&fp);
}

static void test_sign_verify(void **state)
{
	struct strbuf sig = STRBUF_INIT, pk = STRBUF_INIT;
	char who[SIGN_PUBKEY_TEXT_MAX + 1];
	struct sign_key k;

	(void)state;
	assert_int_equal(sign_keygen(&k), 0);
	assert_int_equal(sign_message(&k, "abc", 3, &sig), 0);
	assert_int_equal(sign_verify(sig.buf, "abc", 3, who), 1);
	sign_pubkey_text(k.pk, &pk);
	assert_string_equal(who, pk.buf);
	assert_int_equal(sign_verify(sig.buf, "abd", 3, who), 0);
	assert_int_equal(sign_verify(sig.buf, "ab", 2, who), 0);
	assert_int_equal(sign_verify("ed25519:x:y", "abc", 3, who), 0);
	assert_int_equal(sign_verify(sig.buf + 1, "abc", 3, who), 0);
	strbuf_release(&sig);
	strbuf_release(&pk);
}

/* removing "sig":"<value>", gives back the unsigned canonical line */
static void test_signed_line(void **state)
{
	struct strbuf plain = STRBUF_INIT, line = STRBUF_INIT;
	struct strbuf member = STRBUF_INIT, pk = STRBUF_INIT;
	struct event ev = EVENT_INIT, back = EVENT_INIT;
	struct sign_key k;
	char *at;

	(void)state;
	assert_int_equal(sign_keygen(&k), 0);
	make_event(&ev);
	assert_int_equal(event_serialize(&ev, &plain, 0), 0);
	assert_int_equal(event_serialize_signed(&ev, &line, &k), 0);
	at = strstr(line.buf, "\"sig\":\"");
	assert_non_null(at);
	assert_int_equal(event_parse(&back, line.buf, line.len,
				     EVENT_PARSE_VERIFY, NULL), 0);
	strbuf_addf(&member, "\"sig\":\"%s\",", back.sig);
	assert_memory_equal(at, member.buf, member.len);
	memmove(at, at + member.len, strlen(at + member.len) + 1);
	assert_string_equal(line.buf, plain.buf);
	assert_int_equal(back.sig_state, EVENT_SIG_GOOD);
	sign_pubkey_text(k.pk, &pk);
	assert_string_equal(back.signer, pk.buf);
	event_release(&back);
	/* an unsigned line parses as unsigned */
	assert_int_equal(event_parse(&back, plain.buf, plain.len,
				     EVENT_PARSE_VERIFY, NULL), 0);
	assert_int_equal(back.sig_state, EVENT_UNSIGNED);
	assert_null(back.signer);
	event_release(&back);
	event_release(&ev);
	strbuf_release(&plain);
	strbuf_release(&line);
	strbuf_release(&member);
	strbuf_release(&pk);
}

/*
 * A line whose keys are not in order (at the top, or in a nested
 * object), signed over its own exact bytes: not our writer's canonical
 * form, so bad; the same members in order and signed so: good.
 */
static void test_signed_not_canonical(void **state)
{
	static const char *const text[] = {
		"{\"v\":1,\"agent_id\":\"alice\",\"body\":{\"content\":"
		"\"x\",\"format\":\"markdown\"},\"event_id\":\"evt_1\","
		"\"message_id\":\"msg_1\",\"timestamp\":"
		"\"2026-02-03T10:00:00Z\",\"type\":\"message.create\"}",
		"{\"agent_id\":\"alice\",\"body\":{\"format\":\"markdown\","
		"\"content\":\"x\"},\"event_id\":\"evt_1\","
		"\"message_id\":\"msg_1\",\"timestamp\":"
		"\"2026-02-03T10:00:00Z\",\"type\":\"message.create\",\"v\":1}",
		"{\"agent_id\":\"alice\",\"body\":{\"content\":\"x\","
		"\"format\":\"markdown\"},\"event_id\":\"evt_1\","
		"\"message_id\":\"msg_1\",\"timestamp\":"
		"\"2026-02-03T10:00:00Z\",\"type\":\"message.create\",\"v\":1}",
	};
	struct sign_key k;
	size_t i;

	(void)state;
	assert_int_equal(sign_keygen(&k), 0);
	for (i = 0; i < ARRAY_SIZE(text); i++) {
		struct strbuf sig = STRBUF_INIT, line = STRBUF_INIT;
		struct event back = EVENT_INIT;
		const char *t = text[i], *at;

		assert_int_equal(sign_message(&k, t, strlen(t), &sig), 0);
		/* "sig" where sorted order puts it, before "timestamp" */
		at = strstr(t, "\"timestamp\"");
		strbuf_add(&line, t, at - t);
		strbuf_addf(&line, "\"sig\":\"%s\",%s", sig.buf, at);
		assert_int_equal(event_parse(&back, line.buf, line.len,
					     EVENT_PARSE_VERIFY, NULL), 0);
		assert_int_equal(back.sig_state, i == 2 ? EVENT_SIG_GOOD
							: EVENT_SIG_BAD);
		event_release(&back);
		strbuf_release(&sig);
		strbuf_release(&line);
	}
}

/* every byte of a signed line, changed: never EVENT_SIG_GOOD */
static void test_tampered_bytes(void **state)
{
	struct strbuf line = STRBUF_INIT, spaced = STRBUF_INIT;
	struct event ev = EVENT_INIT, back = EVENT_INIT;
	struct sign_key k;
	char *at;
	size_t i, bad = 0, skipped = 0;
	const char subst[] = "a0 \"";

	(void)state;
	assert_int_equal(sign_keygen(&k), 0);
	make_event(&ev);
	assert_int_equal(event_serialize_signed(&ev, &line, &k), 0);
	for (i = 0; i < line.len; i++) {
		char old = line.buf[i];
		size_t s;

		for (s = 0; s < sizeof(subst) - 1; s++) {
			if (subst[s] == old)
				continue;
			line.buf[i] = subst[s];
			if (event_parse(&back, line.buf, line.len,
					EVENT_PARSE_VERIFY, NULL) < 0) {
				skipped++;
				continue;
			}
			assert_int_not_equal(back.sig_state, EVENT_SIG_GOOD);
			bad += back.sig_state == EVENT_SIG_BAD;
			event_release(&back);
		}
		line.buf[i] = old;
	}
	assert_true(bad > line.len);
	/* a space added where JSON allows one: still not the signed bytes */
	strbuf_reset(&spaced);
	strbuf_addf(&spaced, "{ %s", line.buf + 1);
	assert_int_equal(event_parse(&back, spaced.buf, spaced.len,
				     EVENT_PARSE_VERIFY, NULL), 0);
	assert_int_equal(back.sig_state, EVENT_SIG_BAD);
	event_release(&back);
	/* the same members in another order, same length: not the bytes */
	at = strstr(line.buf, "\"type\":\"message.create\",\"v\":1");
	assert_non_null(at);
	memcpy(at, "\"v\":1,\"type\":\"message.create\"", 29);
	assert_int_equal(event_parse(&back, line.buf, line.len,
				     EVENT_PARSE_VERIFY, NULL), 0);
	assert_int_equal(back.sig_state, EVENT_SIG_BAD);
	event_release(&back);
	event_release(&ev);
	strbuf_release(&line);
	strbuf_release(&spaced);
	(void)skipped;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_file),
		cmocka_unit_test(test_pubkey_text),
		cmocka_unit_test(test_sign_verify),
		cmocka_unit_test(test_signed_line),
		cmocka_unit_test(test_tampered_bytes),
		cmocka_unit_test(test_signed_not_canonical),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
