/*
 * libFuzzer target for the configuration loader (qc_load over cfg and
 * libconfig 1.5).
 *
 * Each input is written to a file in a private temporary directory and
 * loaded.  Includes resolve against that directory, which holds only two
 * fixed files (part.conf, a valid fragment; loop.conf, which includes
 * itself), so an input can exercise includes, cycles and repeats without
 * reaching any other file: absolute include paths are refused by the
 * loader, and inputs containing ".." are skipped.
 *
 * A load must end in a configuration or in errors, each one line
 * "FILE:LINE: message" or "FILE: message" naming the input or an include.
 * A configuration that loads must print (cfg_print) as text that loads
 * again and prints the same.  Any sanitizer report, or a broken rule, is
 * a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"

int     LLVMFuzzerInitialize(int *argc, char ***argv);
int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];
static char in_path[128];
static char rt_path[128];

static void
put(const char *path, const void *data, size_t len)
{
    FILE   *fp = fopen(path, "w");

    if (fp == 0 || fwrite(data, 1, len, fp) != len || fclose(fp) != 0)
	abort();
}

static void
cleanup(void)
{
    static const char *const names[] = {
	"in.conf", "rt.conf", "part.conf", "loop.conf"
    };
    char    p[128];
    size_t  i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
	snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
	unlink(p);
    }
    rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char part[] = "dry_run = true;\n"
	"policies = ( { name = \"inc\"; key = \"sender\"; action = \"log\"; } );\n";
    static const char loop[] = "@include \"loop.conf\"\n";
    char    p[128];

    (void) argc;
    (void) argv;
    snprintf(dir, sizeof(dir), "/tmp/fuzz_conf.XXXXXX");
    if (mkdtemp(dir) == 0)
	abort();
    atexit(cleanup);
    snprintf(in_path, sizeof(in_path), "%s/in.conf", dir);
    snprintf(rt_path, sizeof(rt_path), "%s/rt.conf", dir);
    snprintf(p, sizeof(p), "%s/part.conf", dir);
    put(p, part, sizeof(part) - 1);
    snprintf(p, sizeof(p), "%s/loop.conf", dir);
    put(p, loop, sizeof(loop) - 1);
    return 0;
}

/* Every line of err names a file of ours and has a message. */
static void
check_errors(const char *err)
{
    const char *line, *end;
    size_t  n = strlen(dir);

    if (*err == 0)
	abort();
    for (line = err; *line; line = *end ? end + 1 : end) {
	end = strchrnul(line, '\n');
	if (strncmp(line, dir, n) != 0 || line[n] != '/')
	    abort();
	if (memmem(line, (size_t) (end - line), ": ", 2) == 0)
	    abort();
    }
}

static char *
print(const QC_CONFIG *c, size_t *len)
{
    char   *text = 0;
    FILE   *fp = open_memstream(&text, len);

    if (fp == 0)
	abort();
    cfg_print(qc_table(), c, fp);
    if (fclose(fp) != 0)
	abort();
    return text;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char err[65536];		/* 20 errors and the count, whole */
    char   *a, *b;
    size_t  alen, blen;
    QC_CONFIG *c, *d;

    if (memmem(data, size, "..", 2) != 0)
	return 0;			/* an include could leave dir */
    put(in_path, data, size);
    if ((c = qc_load(in_path, err, sizeof(err))) == 0) {
	check_errors(err);
	return 0;
    }
    a = print(c, &alen);
    put(rt_path, a, alen);
    if ((d = qc_load(rt_path, err, sizeof(err))) == 0) {
	fprintf(stderr, "printed configuration does not load:\n%s\n---\n%s\n",
		err, a);
	abort();
    }
    b = print(d, &blen);
    if (alen != blen || memcmp(a, b, alen) != 0 || c->npolicies != d->npolicies
	|| c->policies_digest != d->policies_digest) {
	fprintf(stderr, "printed configuration differs:\n%s\n---\n%s\n", a, b);
	abort();
    }
    free(a);
    free(b);
    qc_free(c);
    qc_free(d);
    return 0;
}
