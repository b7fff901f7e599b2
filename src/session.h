#ifndef THRUM_SESSION_H
#define THRUM_SESSION_H

/*
 * Working sessions, in the core (core.h).  session_start() ends a session
 * left open (reason "restart"), starts a new one (agent.session.start)
 * and, with an intent, says what it is about (agent.update);
 * session_end() closes the open one (agent.session.end).  The identity
 * file remembers the open session: c->me is changed and saved.  0, or -1
 * after error().
 */
struct core;
struct event;

int session_start(struct core *c, const char *intent);
/*
 * The same, with *first (an agent.register) appended before the session's
 * events, in the same write; *first is taken (left as EVENT_INIT)
 */
int session_start_after(struct core *c, struct event *first,
			const char *intent);
/* reason NULL: "normal" */
int session_end(struct core *c, const char *reason);

#endif
