/* The parts of libre the front end uses. re.h itself is not included: its
 * re_json.h clashes with jansson. */
#ifndef BW_RE_MIN_H
#define BW_RE_MIN_H

#include <re_types.h>
#include <re_fmt.h>
#include <re_mem.h>
#include <re_mbuf.h>
#include <re_list.h>
#include <re_hash.h>
#include <re_sa.h>
#include <re_main.h>
#include <re_mqueue.h>
#include <re_sys.h>
#include <re_tcp.h>
#include <re_srtp.h>
#include <re_tls.h>
#include <re_tmr.h>

#endif
