#ifndef THRUM_CORE_H
#define THRUM_CORE_H

/*
 * The domain core: what thrum does, apart from how a command asks for it
 * and shows it.  Its operations (messaging.h, groups.h, session.h) take
 * a struct core, which their caller fills: the log to append to, the
 * projection to read names and messages from (caught up as far as the
 * operation needs: Documentation/technical/architecture.adoc), who acts,
 * and this clone's origin id.  They return 0 or -1 after error(); they
 * never print, never read stdin and never exit: the commands and the MCP
 * server do that.
 */
#include "event.h"
#include "projection.h"

struct store;
struct identity;
struct repo;

struct core {
	struct store *store;
	struct projection *proj;
	struct identity *me;	/* NULL: nobody (reading only) */
	const char *origin;	/* NULL: unknown (writing fails) */
	struct repo *repo;	/* where identities are saved */
	unsigned me_is_user:1;	/* me is the clone's human user */
	unsigned appended:1;	/* a write happened: proj is behind */
	/*
	 * What "@name" names, answered by the caller (from the directory
	 * cache, opening proj only for what it lacks); NULL: by proj
	 */
	int (*resolve)(struct core *c, const char *name,
		       enum recipient_kind *kind);
	void *caller;		/* theirs, for resolve (copies too) */
};

/* what "@name" names (c->resolve, else the projection); 0 or -1 */
int core_resolve(struct core *c, const char *name, enum recipient_kind *kind);

/*
 * Append evs under my shard (shard, for message events) or events.jsonl
 * (shard NULL), or, when me is the human user and local is set, to this
 * clone's local log which sync never carries.  The projection is not
 * touched: it follows the log.  0 or -1.
 */
int core_append(struct core *c, const char *shard, struct event **evs,
		size_t nr);
int core_append_local(struct core *c, struct event **evs, size_t nr);

/* start ev as a new event of type from this clone; 0 or -1 after error() */
int core_new_event(struct core *c, struct event *ev, enum event_type type);

/* 0 when c has an identity that can write, else -1 after error() */
int core_need_writer(const struct core *c);

/*
 * A new key pair for me: an agent.register naming the new public key,
 * signed by the old key (a rotation, Documentation/security.adoc), then
 * the key file replaced.  The new key waits in "<key file>.new" until
 * the line is durable, so that no failure leaves a key file the log
 * does not know.  The old and new keys' public text is appended to
 * old_pk and new_pk.  0, or -1 after error() (THRUM_ENOTFOUND when I
 * have no key yet: my next write makes one).
 */
int core_rotate_key(struct core *c, struct strbuf *old_pk,
		    struct strbuf *new_pk);

#endif
