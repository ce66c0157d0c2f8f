/*
 * shmtest.h - the fixture of the summary's unit tests (test_shm.c,
 * test_shm_trust.c): trustdir.h's tree with the summary at
 * BASE/p/d/summary, and small wrappers that fail the test with the
 * reason.  Include it once, after <cmocka.h>; define SHMTEST_PREFIX (the
 * mkdtemp template) first.
 */
#ifndef QSHAPE_SHMTEST_H
#define QSHAPE_SHMTEST_H

#define TRUSTDIR_PREFIX	SHMTEST_PREFIX
#define TRUSTDIR_FILE	"summary"
#include "trustdir.h"

static SHM_W *
writer(uint32_t max_keys, uint32_t max_throttle)
{
    SHM_GEOM g = {max_keys, max_throttle};
    char    err[256] = "";
    SHM_W  *w = shm_writer_create(name, &g, -1, err, sizeof(err));

    if (w == 0)
	fail_msg("shm_writer_create: %s", err);
    return w;
}

static SHM_R *
reader(void)
{
    SHM_ERR why = SHM_IOERR;
    char    err[256] = "";
    SHM_R  *r = shm_reader_open(name, &why, err, sizeof(err));

    if (r == 0)
	fail_msg("shm_reader_open: %d: %s", (int) why, err);
    assert_int_equal(why, SHM_OK);
    return r;
}

/* The whole segment, read-write, as a corrupter would see it. */
static unsigned char *
map_rw(size_t *len)
{
    struct stat st;
    void   *p;
    int     fd = open(name, O_RDWR);

    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    *len = (size_t) st.st_size;
    p = mmap(0, *len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    assert_true(p != MAP_FAILED);
    close(fd);
    return p;
}

static SHM_ERR
open_why(void)
{
    SHM_ERR why = SHM_OK;
    char    err[256] = "";
    SHM_R  *r = shm_reader_open(name, &why, err, sizeof(err));

    if (r) {
	shm_reader_close(r);
	return SHM_OK;
    }
    assert_true(err[0] != 0);
    return why;
}

#endif
