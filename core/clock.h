/* clock.h -- the store clock.  Everything that depends on the time of day (code
 * expiry, 14-day windows, price rules) reads this clock, never time() directly, so
 * that tests can move time without sleeping.
 *
 * The clock is injectable in two ways:
 *   - in-process: souk_clock_set_fixed() (unit tests);
 *   - across processes: the environment variable SOUK_CLOCK_FILE names a file that
 *     holds an offset in milliseconds ("86400000" = one day ahead) added to the real
 *     time; it is re-read when its modification time changes.  Only honoured when
 *     the store runs in dev mode (souk_clock_allow_file). */
#ifndef SOUK_CLOCK_H
#define SOUK_CLOCK_H

#include <stdint.h>

/* Unix time in milliseconds. */
int64_t souk_clock_now_ms(void);
/* Monotonic milliseconds and microseconds for durations and timeouts (never
 * injected). */
uint64_t souk_clock_mono_ms(void);
uint64_t souk_clock_mono_us(void);
/* Freeze the clock at ms (0 unfreezes). */
void souk_clock_set_fixed(int64_t ms);
/* Allow or forbid SOUK_CLOCK_FILE (the server allows it in dev mode only). */
void souk_clock_allow_file(int allow);

#endif
