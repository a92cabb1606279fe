#include "sec/rootkey.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"

bw_result bw_rootkey_create(const char *path)
{
	uint8_t key[BW_ROOTKEY_LEN];
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno == EEXIST ? BW_CONFLICT : BW_ERR;
	randombytes_buf(key, sizeof(key));
	ssize_t w = write(fd, key, sizeof(key));
	sodium_memzero(key, sizeof(key));
	int ok = w == (ssize_t)sizeof(key) && fsync(fd) == 0;
	close(fd);
	return ok ? BW_OK : BW_ERR;
}

bw_result bw_rootkey_load(const char *path, uint8_t **key)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return BW_NOTFOUND;
	if (fstat(fd, &st) != 0 || (st.st_mode & 077) != 0 || st.st_size != BW_ROOTKEY_LEN) {
		bw_log(BW_LOG_ERROR, "root key file must be 32 bytes with mode 0600", "path", path);
		close(fd);
		return BW_INVALID;
	}
	uint8_t *k = sodium_malloc(BW_ROOTKEY_LEN);
	if (!k) {
		close(fd);
		return BW_NOMEM;
	}
	ssize_t r = read(fd, k, BW_ROOTKEY_LEN);
	close(fd);
	if (r != BW_ROOTKEY_LEN) {
		sodium_free(k);
		return BW_ERR;
	}
	sodium_mprotect_readonly(k);
	*key = k;
	return BW_OK;
}

void bw_rootkey_free(uint8_t *key)
{
	if (key)
		sodium_free(key); /* sodium_free wipes before unmapping */
}
