/*
 * trustdir.h - the fixture of the unit tests of files the trust checks
 * guard (the summary, the milter's counters): a private directory tree
 * BASE/p/d that passes them (root-owned, 0755 and 0750, under sticky
 * /tmp), the file at BASE/p/d/TRUSTDIR_FILE.  Include it once, after
 * <cmocka.h>; define TRUSTDIR_PREFIX (the mkdtemp template) and
 * TRUSTDIR_FILE (the file's name) first.
 */
#ifndef QSHAPE_TRUSTDIR_H
#define QSHAPE_TRUSTDIR_H

static char base[64], pdir[80], dir[96], name[192];

static int
setup(void **state)
{
    (void) state;
    snprintf(base, sizeof(base), TRUSTDIR_PREFIX);
    if (mkdtemp(base) == 0)
	return -1;
    snprintf(pdir, sizeof(pdir), "%s/p", base);
    snprintf(dir, sizeof(dir), "%s/d", pdir);
    snprintf(name, sizeof(name), "%s/%s", dir, TRUSTDIR_FILE);
    if (mkdir(pdir, 0755) < 0 || chmod(pdir, 0755) < 0 || mkdir(dir, 0750) < 0
	|| chmod(dir, 0750) < 0)
	return -1;
    return 0;
}

static int
teardown(void **state)
{
    char    cmd[128];

    (void) state;
    chmod(base, 0700);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
    return system(cmd);
}

#endif
