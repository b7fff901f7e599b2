/*
 * sign.c: Ed25519 keys and signatures (sign.h), all of it libsodium's:
 * crypto_sign_keypair, crypto_sign_detached, crypto_sign_verify_detached,
 * sodium_bin2base64 / sodium_base642bin, crypto_hash_sha256 for
 * fingerprints.  A "sig" value names its public key, so a line can be
 * checked on its own, before anyone knows whether that key speaks for
 * the name on the line: the projection decides that (projection-sign.c).
 * Secret keys are wiped from the stack by their users with
 * sodium_memzero(); this file never keeps one.
 */
#include "thrum.h"
#include <sodium.h>
#include "sign.h"
#include "lockfile.h"
#include "strbuf.h"
#include "usage.h"

#define B64 sodium_base64_VARIANT_ORIGINAL
#define SK_TEXT_LEN sodium_base64_ENCODED_LEN(SIGN_SK_BYTES, B64)
#define PK_TEXT_LEN sodium_base64_ENCODED_LEN(SIGN_PK_BYTES, B64)
#define SIG_TEXT_LEN sodium_base64_ENCODED_LEN(SIGN_SIG_BYTES, B64)

/*
 * Before any other libsodium call, on every path (its contract).
 * sodium_init() is thread-safe and returns at once once done, so the
 * verifying threads may call it too.
 */
int sign_init(void)
{
	if (sodium_init() < 0)
		return error("libsodium does not initialise");
	return 0;
}

int sign_keygen(struct sign_key *k)
{
	if (sign_init() < 0)
		return -1;
	return crypto_sign_keypair(k->pk, k->sk) ? -1 : 0;
}

/* exactly n bytes of base64 text at p into out: 0 or -1 */
static int from_b64(unsigned char *out, size_t n, const char *p, size_t len)
{
	size_t got = 0;
	const char *end = NULL;

	if (sodium_base642bin(out, n, p, len, NULL, &got, &end, B64) ||
	    got != n || end != p + len)
		return -1;
	return 0;
}

int sign_key_load(const char *path, struct sign_key *k)
{
	struct strbuf sb = STRBUF_INIT;
	struct stat st;
	int ret = THRUM_EINVALID;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return THRUM_ENOTFOUND;
		error_errno("cannot read key '%s'", path);
		return THRUM_EINVALID;
	}
	if (!S_ISREG(st.st_mode)) {
		error("key '%s' is not a regular file", path);
		goto out;
	}
	if (st.st_mode & 077) {
		error("key '%s' is readable by others (mode %04o): "
		      "chmod 600 it", path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if (strbuf_read_file(&sb, path, SK_TEXT_LEN + 1) < 0) {
		error_errno("cannot read key '%s'", path);
		goto out;
	}
	strbuf_trim(&sb);
	if (from_b64(k->sk, SIGN_SK_BYTES, sb.buf, sb.len) < 0 ||
	    crypto_sign_ed25519_sk_to_pk(k->pk, k->sk)) {
		error("key '%s' is not an ed25519 secret key", path);
		goto out;
	}
	ret = 0;
out:
	sodium_memzero(sb.buf, sb.len);
	strbuf_release(&sb);
	return ret;
}

int sign_key_save(const char *path, const struct sign_key *k)
{
	char text[SK_TEXT_LEN + 1];
	int ret;

	sodium_bin2base64(text, SK_TEXT_LEN, k->sk, SIGN_SK_BYTES, B64);
	text[SK_TEXT_LEN - 1] = '\n';
	ret = write_file_atomic(path, text, SK_TEXT_LEN, 0600);
	sodium_memzero(text, sizeof(text));
	return ret;
}

void sign_pubkey_text(const unsigned char *pk, struct strbuf *out)
{
	char text[PK_TEXT_LEN];

	sodium_bin2base64(text, sizeof(text), pk, SIGN_PK_BYTES, B64);
	strbuf_addstr(out, SIGN_PREFIX);
	strbuf_addstr(out, text);
}

void sign_line_digest(const char *line, size_t len, char *out)
{
	unsigned char h[crypto_generichash_BYTES];

	crypto_generichash(h, sizeof(h), (const unsigned char *)line, len,
			   NULL, 0);
	sodium_bin2base64(out, SIGN_DIGEST_TEXT_MAX + 1, h, sizeof(h), B64);
}

int sign_pubkey_parse(const char *text, unsigned char *pk)
{
	size_t plen = strlen(SIGN_PREFIX);

	if (!text || strncmp(text, SIGN_PREFIX, plen) ||
	    from_b64(pk, SIGN_PK_BYTES, text + plen, strlen(text + plen)) < 0)
		return THRUM_EINVALID;
	return 0;
}

int sign_message(const struct sign_key *k, const char *msg, size_t len,
		 struct strbuf *out)
{
	unsigned char sig[SIGN_SIG_BYTES];
	char text[SIG_TEXT_LEN];

	if (sign_init() < 0 ||
	    crypto_sign_detached(sig, NULL, (const unsigned char *)msg, len,
				 k->sk))
		return -1;
	sign_pubkey_text(k->pk, out);
	sodium_bin2base64(text, sizeof(text), sig, sizeof(sig), B64);
	strbuf_addch(out, ':');
	strbuf_addstr(out, text);
	return 0;
}

int sign_verify(const char *sig, const char *msg, size_t len,
		char *pk_text)
{
	unsigned char pk[SIGN_PK_BYTES], raw[SIGN_SIG_BYTES];
	size_t plen = strlen(SIGN_PREFIX);
	const char *colon;

	if (!sig || strncmp(sig, SIGN_PREFIX, plen))
		return 0;
	colon = strchr(sig + plen, ':');
	if (!colon || (size_t)(colon - sig) > SIGN_PUBKEY_TEXT_MAX ||
	    from_b64(pk, sizeof(pk), sig + plen, colon - sig - plen) < 0 ||
	    from_b64(raw, sizeof(raw), colon + 1, strlen(colon + 1)) < 0)
		return 0;
	if (sign_init() < 0 ||
	    crypto_sign_verify_detached(raw, (const unsigned char *)msg, len,
					pk))
		return 0;
	memcpy(pk_text, sig, colon - sig);
	pk_text[colon - sig] = '\0';
	return 1;
}

int sign_verify_line(const char *sig, const char *line, size_t len,
		     const char *t, size_t tlen, char *pk_text)
{
	struct strbuf ins = STRBUF_INIT;
	size_t d, j;
	int ok = 0;

	/* (not strbuf_addf(): a format costs 4 000 instructions a line) */
	strbuf_addstr(&ins, "\"sig\":\"");
	strbuf_addstr(&ins, sig);
	strbuf_addstr(&ins, "\",");
	if (len != tlen + ins.len)
		goto out;
	for (d = 0; d < tlen && line[d] == t[d]; d++)
		;
	/* the member starts at d, or up to its length before d */
	for (j = d + 1; j-- > 0 && d - j <= ins.len;)
		if (!memcmp(line + j, ins.buf, ins.len) &&
		    !memcmp(line + j + ins.len, t + j, tlen - j)) {
			ok = sign_verify(sig, t, tlen, pk_text);
			break;
		}
out:
	strbuf_release(&ins);
	return ok;
}

int sign_fingerprint(const char *pk_text, struct strbuf *out)
{
	unsigned char pk[SIGN_PK_BYTES], h[crypto_hash_sha256_BYTES];
	char text[sodium_base64_ENCODED_LEN(sizeof(h),
		sodium_base64_VARIANT_ORIGINAL_NO_PADDING)];

	if (sign_pubkey_parse(pk_text, pk) < 0)
		return THRUM_EINVALID;
	crypto_hash_sha256(h, pk, sizeof(pk));
	sodium_bin2base64(text, sizeof(text), h, sizeof(h),
			  sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	strbuf_addstr(out, "SHA256:");
	strbuf_addstr(out, text);
	return 0;
}
