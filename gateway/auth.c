/*
 * auth.c: who may call.  auth = token: a bearer token that is one line of
 * token_file, compared in constant time against every line.  auth = jwt:
 * a JWT verified with libjwt against a key of the JWKS file (HS256 "oct",
 * RS256 "RSA", ES256 "EC" P-256; chosen by kid, else by alg), its alg
 * never "none", then iss, aud, exp and nbf checked.  auth = none: anyone
 * (config_gateway.c allows it on loopback only).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "config.h"
#include "log.h"
#include "gateway.h"

#define TOKENS_MAX	1024
#define JWT_LEEWAY	30	/* seconds of clock skew allowed */

static char	*tokens[TOKENS_MAX];
static int	 ntokens;
static json_t	*jwks;		/* the "keys" array */

/* The token file: one token a line, blank lines and # comments skipped. */
static int
tokens_load(const char *path)
{
	char line[1024];
	FILE *fp;
	size_t n;

	if (path == NULL || (fp = fopen(path, "r")) == NULL) {
		log_warn("token_file %s", path ? path : "(not set)");
		return -1;
	}
	while (fgets(line, sizeof(line), fp) != NULL && ntokens < TOKENS_MAX) {
		n = strcspn(line, "\r\n");
		line[n] = '\0';
		while (n > 0 && isspace((unsigned char)line[n - 1]))
			line[--n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		if ((tokens[ntokens++] = strdup(line)) == NULL)
			fatal("strdup");
	}
	fclose(fp);
	if (ntokens == 0)
		log_warnx("token_file %s holds no token: every request "
		    "will be refused", path);
	return 0;
}

int
auth_init(void)
{
	json_error_t e;

	if (strcmp(GS.auth, "token") == 0)
		return tokens_load(GS.token_file);
	if (strcmp(GS.auth, "jwt") == 0) {
		if (GS.jwks_file == NULL ||
		    (jwks = json_load_file(GS.jwks_file, 0, &e)) == NULL) {
			log_warnx("jwt_jwks_file %s: %s", GS.jwks_file ?
			    GS.jwks_file : "(not set)", GS.jwks_file ? e.text :
			    "");
			return -1;
		}
		if (!json_is_array(json_object_get(jwks, "keys"))) {
			log_warnx("jwt_jwks_file %s: no \"keys\" array",
			    GS.jwks_file);
			return -1;
		}
		return 0;
	}
	return 0;
}

/* Equal, in a time that depends on neither where they differ nor b. */
static int
ct_equal(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b), i;
	unsigned char d = alen != blen;

	for (i = 0; i < alen; i++)
		d |= (unsigned char)a[i] ^ (unsigned char)b[i % (blen ? blen :
		    1)];
	return d == 0;
}

static int
token_ok(const char *tok)
{
	size_t len = strlen(tok);
	int i, ok = 0;

	for (i = 0; i < ntokens; i++)
		ok |= ct_equal(tok, len, tokens[i]);
	return ok;
}

/* base64url text to bytes (a new buffer, *len); NULL if malformed. */
static unsigned char *
b64url(const char *s, size_t *len)
{
	size_t n = strlen(s), i, o = 0;
	unsigned char *out;
	uint32_t acc = 0;
	int bits = 0, v;

	if ((out = malloc(n * 3 / 4 + 3)) == NULL)
		fatal("malloc");
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			v = c - '0' + 52;
		else if (c == '-' || c == '+')
			v = 62;
		else if (c == '_' || c == '/')
			v = 63;
		else if (c == '=')
			break;
		else {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (uint32_t)v;
		if ((bits += 6) >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	*len = o;
	return out;
}

/* The JWT header's JSON, decoded without checking anything. */
static json_t *
jwt_header(const char *tok)
{
	const char *dot = strchr(tok, '.');
	unsigned char *raw;
	char *part;
	size_t len;
	json_t *j;

	if (dot == NULL || (part = strndup(tok, (size_t)(dot - tok))) == NULL)
		return NULL;
	raw = b64url(part, &len);
	free(part);
	if (raw == NULL)
		return NULL;
	j = json_loadb((const char *)raw, len, 0, NULL);
	free(raw);
	return j;
}

/* A public key from OSSL params, as PEM (a new string). */
static char *
pkey_pem(const char *type, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *pk = NULL;
	BIO *bio = NULL;
	char *pem = NULL, *data;
	long n;

	if (params != NULL && ctx != NULL && EVP_PKEY_fromdata_init(ctx) > 0 &&
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) > 0 &&
	    (bio = BIO_new(BIO_s_mem())) != NULL &&
	    PEM_write_bio_PUBKEY(bio, pk) > 0 &&
	    (n = BIO_get_mem_data(bio, &data)) > 0)
		pem = strndup(data, (size_t)n);
	BIO_free(bio);
	EVP_PKEY_free(pk);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pem;
}

/* A JWK field, base64url-decoded. */
static unsigned char *
jwk_bytes(json_t *k, const char *name, size_t *len)
{
	const char *s = json_string_value(json_object_get(k, name));

	return s != NULL ? b64url(s, len) : NULL;
}

/* An RSA or EC JWK as a PEM public key; NULL if incomplete. */
static char *
jwk_pem(json_t *k, const char *kty)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	unsigned char *a, *b, pub[65];
	size_t alen = 0, blen = 0;
	BIGNUM *n = NULL, *e = NULL;
	char *pem = NULL;

	a = jwk_bytes(k, strcmp(kty, "RSA") == 0 ? "n" : "x", &alen);
	b = jwk_bytes(k, strcmp(kty, "RSA") == 0 ? "e" : "y", &blen);
	if (bld == NULL || a == NULL || b == NULL)
		goto out;
	if (strcmp(kty, "RSA") == 0) {
		n = BN_bin2bn(a, (int)alen, NULL);
		e = BN_bin2bn(b, (int)blen, NULL);
		if (OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
			pem = pkey_pem("RSA", bld);
	} else if (alen == 32 && blen == 32) {
		pub[0] = 0x04;
		memcpy(pub + 1, a, 32);
		memcpy(pub + 33, b, 32);
		if (OSSL_PARAM_BLD_push_utf8_string(bld,
		    OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) &&
		    OSSL_PARAM_BLD_push_octet_string(bld,
		    OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub)))
			pem = pkey_pem("EC", bld);
	}
out:
	BN_free(n);
	BN_free(e);
	free(a);
	free(b);
	OSSL_PARAM_BLD_free(bld);
	return pem;
}

/* The JWKS key for this header: its bytes for libjwt (a new buffer). */
static unsigned char *
jwks_key(const char *alg, const char *kid, size_t *len)
{
	static const struct { const char *alg, *kty; } kinds[] = {
		{ "HS256", "oct" }, { "RS256", "RSA" }, { "ES256", "EC" },
	};
	const char *kty = NULL, *s;
	json_t *k;
	size_t i;
	char *pem;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(alg, kinds[i].alg) == 0)
			kty = kinds[i].kty;
	if (kty == NULL)
		return NULL;
	json_array_foreach(json_object_get(jwks, "keys"), i, k) {
		if ((s = json_string_value(json_object_get(k, "kty"))) ==
		    NULL || strcmp(s, kty) != 0)
			continue;
		if (kid != NULL && ((s = json_string_value(json_object_get(k,
		    "kid"))) == NULL || strcmp(s, kid) != 0))
			continue;
		if ((s = json_string_value(json_object_get(k, "alg"))) !=
		    NULL && strcmp(s, alg) != 0)
			continue;
		if (strcmp(kty, "oct") == 0)
			return jwk_bytes(k, "k", len);
		if ((pem = jwk_pem(k, kty)) != NULL)
			*len = strlen(pem);
		return (unsigned char *)pem;
	}
	return NULL;
}

/* Is the audience ours?  aud is a string or an array of them. */
static int
aud_ok(jwt_t *jwt)
{
	char *s = jwt_get_grants_json(jwt, "aud");
	json_t *j, *v;
	size_t i;
	int ok = 0;

	if (GS.jwt_audience == NULL) {
		free(s);
		return 1;
	}
	if (s == NULL || (j = json_loads(s, JSON_DECODE_ANY, NULL)) == NULL) {
		free(s);
		return 0;
	}
	if (json_is_string(j))
		ok = strcmp(json_string_value(j), GS.jwt_audience) == 0;
	json_array_foreach(j, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v),
		    GS.jwt_audience) == 0)
			ok = 1;
	json_decref(j);
	free(s);
	return ok;
}

/* The claims of a verified JWT: iss, aud, exp, nbf; NULL when good. */
static const char *
claims_check(jwt_t *jwt)
{
	const char *iss = jwt_get_grant(jwt, "iss");
	long now = (long)time(NULL), exp, nbf;

	if (GS.jwt_issuer != NULL && (iss == NULL ||
	    strcmp(iss, GS.jwt_issuer) != 0))
		return "the token's issuer is not jwt_issuer";
	if (!aud_ok(jwt))
		return "the token's audience is not jwt_audience";
	exp = jwt_get_grant_int(jwt, "exp");
	if (exp <= 0)
		return "the token has no exp";
	if (now > exp + JWT_LEEWAY)
		return "the token has expired";
	nbf = jwt_get_grant_int(jwt, "nbf");
	if (nbf > 0 && now + JWT_LEEWAY < nbf)
		return "the token is not valid yet";
	return NULL;
}

/* A JWT: NULL when good, else why not. */
static const char *
jwt_check(const char *tok)
{
	json_t *h = jwt_header(tok);
	const char *alg, *why;
	unsigned char *key;
	size_t klen = 0;
	jwt_t *jwt = NULL;

	if (h == NULL)
		return "the token is not a JWT";
	alg = json_string_value(json_object_get(h, "alg"));
	if (alg == NULL || strcasecmp(alg, "none") == 0) {
		json_decref(h);
		return "the token's alg is none";
	}
	key = jwks_key(alg, json_string_value(json_object_get(h, "kid")),
	    &klen);
	json_decref(h);
	if (key == NULL)
		return "no key of jwt_jwks_file for the token's alg and kid";
	if (jwt_decode(&jwt, tok, key, (int)klen) != 0 || jwt == NULL ||
	    jwt_get_alg(jwt) == JWT_ALG_NONE) {
		free(key);
		jwt_free(jwt);
		return "the token's signature does not verify";
	}
	free(key);
	why = claims_check(jwt);
	jwt_free(jwt);
	return why;
}

/* May this Authorization header call?  1, or 0 with why. */
int
auth_check(const char *authz, char *why, size_t whysz)
{
	const char *tok, *bad;

	if (strcmp(GS.auth, "none") == 0)
		return 1;
	if (authz == NULL || strncasecmp(authz, "Bearer ", 7) != 0) {
		snprintf(why, whysz, "an Authorization: Bearer token is "
		    "needed");
		return 0;
	}
	tok = authz + 7;
	while (*tok == ' ')
		tok++;
	if (strcmp(GS.auth, "token") == 0) {
		if (token_ok(tok))
			return 1;
		snprintf(why, whysz, "the bearer token is not valid");
		return 0;
	}
	if ((bad = jwt_check(tok)) == NULL)
		return 1;
	snprintf(why, whysz, "%s", bad);
	return 0;
}
