/* Internals shared by the files of src/integ/. */
#ifndef BW_INTEG_INT_H
#define BW_INTEG_INT_H

/* Unix ms from the wall clock, or from the test clock when one is set. */
long long bw_integ__now_ms(void);
/* Tests: time from fn (NULL: the wall clock again). */
void bw_integ__set_clock(long long (*fn)(void));

#endif
