/*
 * Monotonic milliseconds, sleeping and bounded polling (clock.h).
 */
#include "thrum.h"
#include "clock.h"

int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sleep_ms(long ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int poll_until(int (*done)(void *arg), void *arg, long timeout_ms,
	       long step_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	int ret;

	while (!(ret = done(arg))) {
		int64_t left = deadline < 0 ? step_ms : deadline - now_ms();

		if (left <= 0)
			return done(arg);
		sleep_ms(left < step_ms ? (long)left : step_ms);
	}
	return ret;
}
