/* Encrypted customer input (C15) in process: bw_esdk_encrypt of a card
 * number to one and to two RSA-2048 keys (what StoreCustomerInput does on
 * the loop), against the part no implementation can skip measured in the
 * same run: one RSA-OAEP-SHA512 encryption of a 32-byte data key per key
 * with OpenSSL. Prints operations per second and the ratio.
 *   bench_esdk [SECONDS_PER_CASE] */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sec/esdk.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static EVP_PKEY *keygen(char **pem)
{
	EVP_PKEY *k = EVP_RSA_gen(2048);
	BIO *b = BIO_new(BIO_s_mem());
	if (!k || !b || PEM_write_bio_PUBKEY(b, k) != 1)
		exit(2);
	char *data;
	long n = BIO_get_mem_data(b, &data);
	*pem = strndup(data, (size_t)n);
	BIO_free(b);
	return k;
}

static double oaep_rate(EVP_PKEY **keys, int nkeys, double secs)
{
	unsigned char dk[32] = {1}, out[512];
	long ops = 0;
	double t0 = now();
	while (now() - t0 < secs) {
		for (int i = 0; i < nkeys; i++) {
			EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(keys[i], NULL);
			size_t outlen = sizeof(out);
			if (!c || EVP_PKEY_encrypt_init(c) != 1 ||
			    EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_OAEP_PADDING) != 1 ||
			    EVP_PKEY_CTX_set_rsa_oaep_md(c, EVP_sha512()) != 1 ||
			    EVP_PKEY_CTX_set_rsa_mgf1_md(c, EVP_sha512()) != 1 ||
			    EVP_PKEY_encrypt(c, out, &outlen, dk, sizeof(dk)) != 1)
				exit(2);
			EVP_PKEY_CTX_free(c);
		}
		ops++;
	}
	return (double)ops / (now() - t0);
}

static double esdk_rate(const struct bw_esdk_key *keys, int nkeys, double secs)
{
	static const char card[] = "4929179365807132";
	const struct bw_esdk_pair ctx[] = {{BW_ESDK_CTX_INSTANCE, "in_bench"},
	                                   {BW_ESDK_CTX_CONTACT, "ct_bench"},
	                                   {BW_ESDK_CTX_ATTRIBUTE, "card"}};
	long ops = 0;
	double t0 = now();
	while (now() - t0 < secs) {
		char *b64 = NULL;
		if (bw_esdk_encrypt(keys, (size_t)nkeys, ctx, 3, (const uint8_t *)card, strlen(card),
		                    &b64) != BW_OK)
			exit(2);
		free(b64);
		ops++;
	}
	return (double)ops / (now() - t0);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 3.0;
	char *pem[2];
	EVP_PKEY *k[2] = {keygen(&pem[0]), keygen(&pem[1])};
	const struct bw_esdk_key keys[2] = {{"card-2026", pem[0]}, {"card-2027", pem[1]}};
	for (int n = 1; n <= 2; n++) {
		double ref = oaep_rate(k, n, secs), got = esdk_rate(keys, n, secs);
		printf("StoreCustomerInput to %d key%s: %.0f messages/s (%.1f us each); "
		       "raw RSA-OAEP-SHA512 of the data key: %.0f/s; ratio %.2f\n",
		       n, n > 1 ? "s" : "", got, 1e6 / got, ref, got / ref);
	}
	for (int i = 0; i < 2; i++) {
		EVP_PKEY_free(k[i]);
		free(pem[i]);
	}
	return 0;
}
