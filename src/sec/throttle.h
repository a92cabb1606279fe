/* Logins in flight per key (a username or an address), in process: with the
 * stored failure count it bounds how many passwords a burst of parallel
 * attempts can have checked before the lock lands. */
#ifndef BW_THROTTLE_H
#define BW_THROTTLE_H

#include <stdbool.h>

/* Admits one attempt if fewer than `allowed` are in flight for key, and
 * says how many are in flight with it (0: not admitted). */
int bw_throttle_enter(const char *key, int allowed);
void bw_throttle_leave(const char *key);

#endif
