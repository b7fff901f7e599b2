#ifndef THRUM_CLOCK_H
#define THRUM_CLOCK_H

/*
 * Time, one way: milliseconds on the monotonic clock for deadlines and
 * back-off (never the wall clock, which the user may set back), a sleep
 * that resumes after a signal, and a bounded poll so that no caller
 * writes its own "try 200 times, 10 ms apart" loop.
 */

/* milliseconds on CLOCK_MONOTONIC: only differences mean anything */
int64_t now_ms(void);

/* sleep ms milliseconds (0 or less: return at once), resuming after EINTR */
void sleep_ms(long ms);

/*
 * Call done(arg) until it returns non-zero or timeout_ms have passed,
 * sleeping step_ms between calls (timeout_ms < 0: no bound).  Returns
 * done's last value: 0 means it never became true in time.  done is
 * called once more at the deadline, so a condition that turns true
 * during the last sleep is seen.
 */
int poll_until(int (*done)(void *arg), void *arg, long timeout_ms,
	       long step_ms);

#endif
