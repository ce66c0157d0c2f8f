/*
 * holdmilter - a test milter that holds and marks messages as
 * qshape-milter does, on the message's own request: so that the e2e tests
 * get hold marks written by a real Postfix cleanup, before and apart from
 * qshape-milter.
 *
 *	holdmilter SOCKET		(inet:PORT@127.0.0.1)
 *
 * A message with the header
 *
 *	X-Test-Hold: POLICY KIND EKEY AGE
 *
 * (KIND a key kind name, EKEY the key with holdmark.h's %HH escapes, AGE
 * seconds) is marked with hm_format(POLICY, KIND, KEY, now - AGE) through
 * smfi_addheader() and quarantined with the mark as the reason, at end of
 * message, exactly as qshape-milter is to do it.  Other messages are
 * accepted.  A bad X-Test-Hold header makes the message tempfail.  Runs
 * in the foreground until killed.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmilter/mfapi.h>

#include "qshape/vocab.h"
#include "holdmark.h"

typedef struct MSG {
    int     want;			/* an X-Test-Hold header was seen */
    int     bad;			/* and it did not parse */
    char    value[HM_VALUE_MAX];	/* the mark to add */
} MSG;

static sfsistat
on_header(SMFICTX *ctx, char *name, char *value)
{
    MSG    *m = smfi_getpriv(ctx);
    char    policy[64], kind[64], ekey[1024], key[HM_KEY_MAX * 4];
    long long age;
    size_t  klen;
    int     k;

    if (strcasecmp(name, "X-Test-Hold") != 0)
	return SMFIS_CONTINUE;
    if (m == 0) {
	if ((m = calloc(1, sizeof(*m))) == 0)
	    return SMFIS_TEMPFAIL;
	smfi_setpriv(ctx, m);
    }
    m->want = 1;
    if (sscanf(value, " %63s %63s %1023s %lld", policy, kind, ekey, &age) != 4
	|| (k = qs_kind_parse(kind)) < 0
	|| hm_key_decode(ekey, strlen(ekey), key, sizeof(key), &klen) != HM_OK
	|| hm_format(m->value, sizeof(m->value), policy, k, key, klen,
		     (int64_t) time(0) - age) < 0)
	m->bad = 1;
    return SMFIS_CONTINUE;
}

static sfsistat
on_eom(SMFICTX *ctx)
{
    MSG    *m = smfi_getpriv(ctx);
    sfsistat rc = SMFIS_ACCEPT;

    if (m && m->bad)
	rc = SMFIS_TEMPFAIL;
    else if (m && m->want
	     && (smfi_addheader(ctx, HM_HEADER, m->value) != MI_SUCCESS
		 || smfi_quarantine(ctx, m->value) != MI_SUCCESS))
	rc = SMFIS_TEMPFAIL;
    free(m);
    smfi_setpriv(ctx, 0);
    return rc;
}

static sfsistat
on_abort(SMFICTX *ctx)
{
    free(smfi_getpriv(ctx));
    smfi_setpriv(ctx, 0);
    return SMFIS_CONTINUE;
}

static sfsistat
on_close(SMFICTX *ctx)
{
    return on_abort(ctx);
}

static struct smfiDesc desc = {
    .xxfi_name = "holdmilter",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = SMFIF_ADDHDRS | SMFIF_QUARANTINE,
    .xxfi_header = on_header,
    .xxfi_eom = on_eom,
    .xxfi_abort = on_abort,
    .xxfi_close = on_close,
};

int
main(int argc, char **argv)
{
    if (argc != 2) {
	fprintf(stderr, "usage: holdmilter SOCKET\n");
	return 2;
    }
    if (smfi_register(desc) == MI_FAILURE || smfi_setconn(argv[1])
	== MI_FAILURE || smfi_opensocket(1) == MI_FAILURE) {
	fprintf(stderr, "holdmilter: cannot listen on %s\n", argv[1]);
	return 1;
    }
    return smfi_main() == MI_SUCCESS ? 0 : 1;
}
