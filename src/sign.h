#ifndef THRUM_SIGN_H
#define THRUM_SIGN_H

/*
 * Ed25519 signatures of events, over libsodium (no crypto of our own).
 * A key pair lives in .thrum/identities/<name>.key (mode 0600, the secret
 * key in base64, never in the log); its public half is written in an
 * agent.register as "pubkey":"ed25519:<base64>", and each signed line
 * carries "sig":"ed25519:<base64 public key>:<base64 signature>" over the
 * bytes of the line without that member (gitthrum-format(5), "Signed
 * events").  Keys are plain structs on the caller's stack; nothing here
 * allocates except into a caller's strbuf.
 */
struct strbuf;

#define SIGN_PK_BYTES 32
#define SIGN_SK_BYTES 64
#define SIGN_SIG_BYTES 64
/* "ed25519:" + base64 of 32 bytes */
#define SIGN_PUBKEY_TEXT_MAX 52
#define SIGN_PREFIX "ed25519:"

struct sign_key {
	unsigned char pk[SIGN_PK_BYTES];
	unsigned char sk[SIGN_SK_BYTES];
};

/* libsodium's sodium_init(), once per process; 0 or -1 after error() */
int sign_init(void);

/* a new random key pair; 0 or -1 */
int sign_keygen(struct sign_key *k);

/*
 * Read the key file at path.  0; THRUM_ENOTFOUND (no file, nothing
 * reported); THRUM_EINVALID after error() (unreadable, wrong mode bits
 * for group or others, not a key).
 */
int sign_key_load(const char *path, struct sign_key *k);

/* write k to path (temporary file + rename, mode 0600); 0 or -1 */
int sign_key_save(const char *path, const struct sign_key *k);

/* append "ed25519:<base64>" of pk to out */
void sign_pubkey_text(const unsigned char *pk, struct strbuf *out);

/* parse "ed25519:<base64>" into pk: 0, or THRUM_EINVALID */
int sign_pubkey_parse(const char *text, unsigned char *pk);

/* append the "sig" value of msg[0..len) signed with k to out; 0 or -1 */
int sign_message(const struct sign_key *k, const char *msg, size_t len,
		 struct strbuf *out);

/*
 * Check the "sig" value sig over msg[0..len): 1 when the signature is
 * valid for the public key it names (written to pk_text, which holds
 * SIGN_PUBKEY_TEXT_MAX + 1 bytes, as "ed25519:<base64>"); 0 when it is
 * not (malformed, or the bytes were changed).
 */
int sign_verify(const char *sig, const char *msg, size_t len,
		char *pk_text);

/*
 * A signed line: line[0..len) must be exactly the signed bytes
 * t[0..tlen) with the member "sig":"<sig>", inserted at one place (where
 * the writer's sorted order put it), and sig must verify over t.  1 and
 * the key in pk_text (as sign_verify()), or 0: any byte changed either
 * changes the signed bytes or breaks that shape.
 */
int sign_verify_line(const char *sig, const char *line, size_t len,
		     const char *t, size_t tlen, char *pk_text);

/*
 * The digest of a line, as an agent.vouch names it: BLAKE2b-256 of
 * line[0..len), in base64, written to out (SIGN_DIGEST_TEXT_MAX + 1
 * bytes)
 */
#define SIGN_DIGEST_TEXT_MAX 44
void sign_line_digest(const char *line, size_t len, char *out);

/* append the fingerprint of the key "ed25519:<base64>": "SHA256:<base64>" */
int sign_fingerprint(const char *pk_text, struct strbuf *out);

#endif
