/* The command line's HTTP client: one libcurl easy request at a time, with
 * a cap on the response size and a timeout. Redirects are not followed, so
 * the bearer token never travels to another host. */
#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_int.h"

struct sink {
	char *p;
	size_t len, cap;
	bool toobig;
};

/* Grows by copying, so that no unwiped copy of a response is left behind. */
static int grow(struct sink *s, size_t need)
{
	size_t cap = s->cap ? s->cap : 4096;
	while (cap < need)
		cap *= 2;
	char *p = malloc(cap);
	if (!p)
		return -1;
	if (s->p) {
		memcpy(p, s->p, s->len);
		sodium_memzero(s->p, s->cap);
		free(s->p);
	}
	s->p = p;
	s->cap = cap;
	return 0;
}

static size_t on_data(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb;
	if (n > BW_CLI_MAX_RESPONSE - s->len) {
		s->toobig = true;
		return 0; /* aborts the transfer */
	}
	if (s->len + n + 1 > s->cap && grow(s, s->len + n + 1) != 0)
		return 0;
	memcpy(s->p + s->len, data, n);
	s->len += n;
	s->p[s->len] = '\0';
	return n;
}

/* The header list; the Authorization line is wiped when it is freed. */
static struct curl_slist *headers(const struct bw_cli *c, bool body)
{
	struct curl_slist *h = NULL, *t;
	char auth[640];
	h = curl_slist_append(h, "Accept: application/json");
	if (h && body && (t = curl_slist_append(h, "Content-Type: application/json")))
		h = t;
	if (h && (t = curl_slist_append(h, "Expect:")))
		h = t;
	if (h && c->token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->token);
		t = curl_slist_append(h, auth);
		sodium_memzero(auth, sizeof(auth));
		if (!t) {
			curl_slist_free_all(h);
			return NULL;
		}
		h = t;
	}
	return h;
}

static void headers_free(struct curl_slist *h)
{
	for (struct curl_slist *p = h; p; p = p->next)
		sodium_memzero(p->data, strlen(p->data));
	curl_slist_free_all(h);
}

static void setup(CURL *e, const struct bw_cli *c, const char *method, const char *url,
                  const char *body, struct curl_slist *h, struct sink *s, char *err)
{
	long connect_s = c->timeout_s < 10 ? c->timeout_s : 10;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "bulwark-cli");
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, c->timeout_s);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, connect_s);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
}

int bw_cli__http(const struct bw_cli *c, const char *method, const char *path, const char *body,
                 struct bw_cli_resp *r)
{
	char url[sizeof(c->url) + BW_CLI_PATH_MAX];
	char err[CURL_ERROR_SIZE] = "";
	struct sink s = {0};
	int rc = -1;
	memset(r, 0, sizeof(*r));
	r->retry_after = -1;
	snprintf(url, sizeof(url), "%s%s", c->url, path);
	CURL *e = curl_easy_init();
	struct curl_slist *h = headers(c, body != NULL);
	if (!e || !h) {
		snprintf(r->err, sizeof(r->err), "out of memory");
		goto out;
	}
	setup(e, c, method, url, body, h, &s, err);
	CURLcode cr = curl_easy_perform(e);
	if (s.toobig) {
		snprintf(r->err, sizeof(r->err), "the response is larger than %u bytes",
		         BW_CLI_MAX_RESPONSE);
	} else if (cr != CURLE_OK) {
		snprintf(r->err, sizeof(r->err), "%s", err[0] ? err : curl_easy_strerror(cr));
	} else {
		curl_off_t ra = -1;
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r->status);
		if (curl_easy_getinfo(e, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
			r->retry_after = (long)ra;
		r->body = s.p;
		r->len = s.len;
		s.p = NULL;
		rc = 0;
	}
out:
	if (s.p) {
		sodium_memzero(s.p, s.cap);
		free(s.p);
	}
	headers_free(h);
	curl_easy_cleanup(e);
	return rc;
}

void bw_cli__resp_free(struct bw_cli_resp *r)
{
	if (r->body) {
		sodium_memzero(r->body, r->len);
		free(r->body);
	}
	r->body = NULL;
	r->len = 0;
}
