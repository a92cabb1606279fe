#include "sec/totp.h"

#include <liboath/oath.h>
#include <pthread.h>
#include <qrencode.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init_oath(void)
{
	oath_init();
}

void bw_totp_new_secret(uint8_t secret[BW_TOTP_SECRET_LEN])
{
	randombytes_buf(secret, BW_TOTP_SECRET_LEN);
}

static void pct(char *out, size_t outsz, const char *in)
{
	size_t o = 0;
	for (; *in && o + 4 < outsz; in++) {
		unsigned char ch = (unsigned char)*in;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '_' || ch == '.' || ch == '~' || ch == '@') {
			out[o++] = (char)ch;
		} else {
			snprintf(out + o, outsz - o, "%%%02X", ch);
			o += 3;
		}
	}
	out[o] = '\0';
}

char *bw_totp_uri(const uint8_t *secret, size_t len, const char *issuer, const char *label)
{
	pthread_once(&once, init_oath);
	char *b32 = NULL;
	size_t b32len = 0;
	if (oath_base32_encode((const char *)secret, len, &b32, &b32len) != OATH_OK)
		return NULL;
	/* Authenticator apps want the secret without '=' padding. */
	while (b32len && b32[b32len - 1] == '=')
		b32[--b32len] = '\0';
	char is[128], lb[400];
	pct(is, sizeof(is), issuer);
	pct(lb, sizeof(lb), label);
	size_t n = strlen(is) * 2 + strlen(lb) + b32len + 128;
	char *uri = malloc(n);
	if (uri)
		snprintf(uri, n,
		         "otpauth://totp/%s:%s?secret=%s&issuer=%s&algorithm=SHA1&digits=6&period=30", is,
		         lb, b32, is);
	sodium_memzero(b32, b32len);
	free(b32);
	return uri;
}

bw_result bw_totp_check(const uint8_t *secret, size_t len, const char *code, long long now,
                        long long *step)
{
	pthread_once(&once, init_oath);
	if (!code || strlen(code) != 6 || strspn(code, "0123456789") != 6)
		return BW_INVALID;
	int pos = 0;
	int rc = oath_totp_validate2((const char *)secret, len, (time_t)now, 30, 0, 1, &pos, code);
	if (rc < 0)
		return BW_DENIED;
	*step = now / 30 + pos;
	return BW_OK;
}

char *bw_qr_svg(const char *text)
{
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (!qr)
		return NULL;
	int w = qr->width, border = 4, size = w + 2 * border;
	size_t cap = 256 + (size_t)w * (size_t)w * 40;
	char *svg = malloc(cap);
	if (!svg) {
		QRcode_free(qr);
		return NULL;
	}
	size_t o = (size_t)snprintf(svg, cap,
	                            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
	                            "shape-rendering=\"crispEdges\"><rect width=\"100%%\" "
	                            "height=\"100%%\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
	                            size, size);
	for (int y = 0; y < w; y++)
		for (int x = 0; x < w; x++)
			if (qr->data[y * w + x] & 1)
				o += (size_t)snprintf(svg + o, cap - o, "M%d %dh1v1h-1z", x + border,
				                      y + border);
	snprintf(svg + o, cap - o, "\"/></svg>");
	QRcode_free(qr);
	return svg;
}
