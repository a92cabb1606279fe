/* TOTP (RFC 6238, SHA-1, 6 digits, 30 s) with liboath; QR codes with libqrencode. */
#ifndef BW_TOTP_H
#define BW_TOTP_H

#include <stddef.h>
#include <stdint.h>

#include "core/result.h"

#define BW_TOTP_SECRET_LEN 20

void bw_totp_new_secret(uint8_t secret[BW_TOTP_SECRET_LEN]);
/* otpauth://totp/Bulwark:<label>?secret=...&issuer=Bulwark&... (malloc'd). */
char *bw_totp_uri(const uint8_t *secret, size_t len, const char *issuer, const char *label);
/* Checks a 6-digit code with one step of skew; gives the matched step. */
BW_MUST_USE bw_result bw_totp_check(const uint8_t *secret, size_t len, const char *code,
                                    long long now, long long *step);
/* An SVG of the QR code for text (malloc'd). */
char *bw_qr_svg(const char *text);

#endif
