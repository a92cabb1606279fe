/* Secrets on the command line: passwords come from standard input, the
 * environment or the terminal (never from argv), and JSON memory is wiped
 * when freed. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli_int.h"

/* A size header in front of each block, so that free knows what to wipe. */
union hdr {
	size_t n;
	max_align_t align;
};

static void *wipe_malloc(size_t n)
{
	if (n > SIZE_MAX - sizeof(union hdr))
		return NULL;
	union hdr *h = malloc(sizeof(*h) + n);
	if (!h)
		return NULL;
	h->n = n;
	return h + 1;
}

static void wipe_free(void *p)
{
	if (!p)
		return;
	union hdr *h = (union hdr *)p - 1;
	sodium_memzero(p, h->n);
	free(h);
}

void bw_cli__secure_json(void)
{
	json_set_alloc_funcs(wipe_malloc, wipe_free);
}

void bw_cli__jfree(void *p)
{
	wipe_free(p);
}

/* One line from fd into buf: the newline (and a CR before it) dropped. */
static int read_line(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	for (;;) {
		char ch;
		ssize_t r = read(fd, &ch, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || ch == '\n')
			break;
		if (n + 1 >= cap) {
			sodium_memzero(buf, cap);
			return -1;
		}
		buf[n++] = ch;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return 0;
}

/* Asks on the terminal with echo off. */
static int prompt(char *buf, size_t cap)
{
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct termios old, quiet;
	int rc = -1;
	if (tcgetattr(fd, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		static const char ask[] = "Password: ";
		if (write(fd, ask, sizeof(ask) - 1) > 0 && tcsetattr(fd, TCSAFLUSH, &quiet) == 0) {
			rc = read_line(fd, buf, cap);
			tcsetattr(fd, TCSAFLUSH, &old);
			if (write(fd, "\n", 1) < 0) {
				/* only cosmetic: the user's Enter was not echoed */
			}
		}
	}
	close(fd);
	return rc;
}

static int from_env(const char *env, char *buf, size_t cap)
{
	const char *v = env ? getenv(env) : NULL;
	if (!v)
		return 0;
	size_t n = strlen(v);
	if (n + 1 > cap)
		return -1;
	memcpy(buf, v, n + 1);
	return 1;
}

int bw_cli__password(const struct bw_cli_args *a, const char *stdin_flag, const char *env,
                     char *buf, size_t cap)
{
	int got;
	if (bw_cli__flag(a, stdin_flag))
		got = read_line(STDIN_FILENO, buf, cap) == 0 ? 1 : -1;
	else if ((got = from_env(env, buf, cap)) == 0 && isatty(STDIN_FILENO))
		got = prompt(buf, cap) == 0 ? 1 : -1;
	if (got < 0) {
		fprintf(stderr, "bulwark: cannot read the password (at most %zu bytes)\n", cap - 1);
		return -1;
	}
	if (got == 1 && !buf[0]) {
		fprintf(stderr, "bulwark: the password is empty\n");
		return -1;
	}
	return got;
}

char *bw_cli__read_stdin(size_t cap)
{
	char *buf = malloc(cap);
	size_t n = 0;
	if (!buf)
		return NULL;
	for (;;) {
		ssize_t r = read(STDIN_FILENO, buf + n, cap - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		if (n == cap - 1) {
			fprintf(stderr, "bulwark: standard input is larger than %zu bytes\n",
			        cap - 1);
			free(buf);
			return NULL;
		}
	}
	buf[n] = '\0';
	return buf;
}
