/*
 * Unit tests for shm: file creation and replacement, the reader's checks,
 * publication and the throttle index (test_shm_trust.c has the attacks
 * of the threat model).
 * Each test gets base/p/d/summary in a fresh base = /tmp/test_shm.XXXXXX
 * (d, the summary's directory, mode 0750; p 0755), removed after it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "shm.h"

#define SHMTEST_PREFIX	"/tmp/test_shm.XXXXXX"
#include "shmtest.h"

static void
hash_known(void **state)
{
    QS_THROTTLE e;
    char    longkey[300];

    (void) state;
    /* FNV-1a 64 of the bytes {kind, key...}, computed independently. */
    assert_true(qs_key_hash(0, "", 0) == 0xaf63bd4c8601b7dfull);
    assert_true(qs_key_hash(QS_KEY_SENDER_DOMAIN, "example.com", 11)
		== 0x8075e52cb53855e8ull);
    assert_true(qs_key_hash(QS_KEY_CLIENT_ADDRESS, "192.0.2.1", 9)
		== 0x882fe3ea4349bda1ull);
    memset(longkey, 'x', sizeof(longkey));
    memset(&e, 0x55, sizeof(e));
    shm_throttle_set_key(&e, QS_KEY_SENDER, longkey, sizeof(longkey));
    assert_true(e.hash == qs_key_hash(QS_KEY_SENDER, longkey, 300));
    assert_int_equal(e.kind, QS_KEY_SENDER);
    assert_int_equal(strlen(e.text), QS_KEY_BYTES - 1);
    shm_throttle_set_key(&e, QS_KEY_SENDER, "ab", 2);
    assert_string_equal(e.text, "ab");
    assert_int_equal(e.text[QS_KEY_BYTES - 1], 0);
}

static void
refuse_args(void **state)
{
    SHM_GEOM g = {10, 4}, big = {2000000, 4}, bigt = {10, 1u << 25};
    char    err[512], missing[160];
    SHM_ERR why = SHM_OK;

    (void) state;
    assert_null(shm_writer_create("noslash", &g, -1, err, sizeof(err)));
    assert_string_equal(err, "bad summary path: \"noslash\" is not an "
			"absolute path");
    assert_null(shm_writer_create("/", &g, -1, err, sizeof(err)));
    assert_non_null(strstr(err, "bad summary path"));
    assert_null(shm_writer_create("/tmp/../x", &g, -1, err, sizeof(err)));
    assert_non_null(strstr(err, "bad summary path"));
    snprintf(missing, sizeof(missing), "%s/none/summary", base);
    assert_null(shm_writer_create(missing, &g, -1, err, sizeof(err)));
    assert_non_null(strstr(err, "No such file or directory"));
    assert_null(shm_writer_create(name, &big, -1, err, sizeof(err)));
    assert_non_null(strstr(err, "capacity too large"));
    assert_null(shm_writer_create(name, &bigt, -1, err, sizeof(err)));
    assert_null(shm_reader_open(name, &why, err, sizeof(err)));
    assert_int_equal(why, SHM_MISSING);
    assert_non_null(strstr(err, name));
    assert_null(shm_reader_open(missing, &why, err, sizeof(err)));
    assert_int_equal(why, SHM_MISSING);
    shm_reader_close(0);
    shm_writer_destroy(0);
}

static void
create_header(void **state)
{
    struct stat st;
    char    tmp[256];
    mode_t  old = umask(077);		/* create must not depend on it */
    gid_t   gid = geteuid() == 0 ? 4242 : getgid();
    SHM_GEOM g = {10, 5};
    char    err[256] = "";
    SHM_W  *w = shm_writer_create(name, &g, (long) gid, err, sizeof(err));
    const QS_HEADER *h;
    const QS_BODY *b;
    unsigned char *p;
    size_t  len;

    (void) state;
    umask(old);
    if (w == 0)
	fail_msg("%s", err);
    assert_int_equal(lstat(name, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0640);
    assert_int_equal(st.st_gid, gid);
    assert_int_equal(st.st_uid, geteuid());
    assert_int_equal(st.st_nlink, 1);
    assert_int_equal(st.st_size, shm_segment_size(&g));
    assert_true(st.st_blocks * 512 >= st.st_size);	/* allocated */
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", name, (long) getpid());
    assert_int_equal(lstat(tmp, &st), -1);
    assert_int_equal(errno, ENOENT);

    p = map_rw(&len);
    h = (const QS_HEADER *) p;
    assert_int_equal(h->magic, QS_MAGIC);
    assert_int_equal(h->major, QS_VERSION_MAJOR);
    assert_int_equal(h->minor, QS_VERSION_MINOR);
    assert_int_equal(h->header_size, sizeof(QS_HEADER));
    assert_int_equal(h->throttle_size, sizeof(QS_THROTTLE));
    assert_int_equal(h->max_keys, 10);
    assert_int_equal(h->max_throttle, 5);
    assert_int_equal(h->nindex, 16);	/* next power of two >= 10 */
    assert_int_equal(h->generation, 1);
    assert_int_equal(h->writer_pid, getpid());
    assert_int_equal(h->writer_uid, geteuid());
    assert_int_equal(h->seq, 0);
    assert_int_equal(h->latch, 0);
    assert_int_equal(h->heartbeat, 0);
    assert_int_equal(h->retired, 0);
    assert_int_equal(h->segment_size, len);
    assert_int_equal(h->body_size, shm_writer_body_size(w));
    assert_int_equal(h->body_size % 8, 0);
    assert_int_equal(h->body_offset[0] % 64, 0);
    assert_int_equal(h->body_offset[1] % 64, 0);
    assert_true(h->body_offset[1] >= h->body_offset[0] + h->body_size);
    assert_true(h->segment_size >= h->body_offset[1] + h->body_size);

    /* Both copies hold the empty body with its offsets: good to read. */
    b = (const QS_BODY *) (p + h->body_offset[0]);
    assert_int_equal(b->off_queue, sizeof(QS_BODY));
    assert_int_equal(b->off_table, (b->off_queue
		     + QS_MAX_QUEUES * sizeof(QS_QUEUE) + 7) & ~7ul);
    assert_int_equal(b->off_key, b->off_table
		     + QS_NKEYKINDS * sizeof(QS_TABLE));
    assert_int_equal(b->off_throttle, b->off_key + 10 * sizeof(QS_KEY));
    assert_int_equal(b->off_index, b->off_throttle + 5 * sizeof(QS_THROTTLE));
    assert_int_equal(b->off_policy, b->off_index + 16 * 4);
    assert_int_equal(h->body_size,
		     b->off_policy + QS_MAX_POLICIES * sizeof(QS_POLICY));
    assert_int_equal(memcmp(b, p + h->body_offset[1], h->body_size), 0);
    assert_int_equal(memcmp(b, shm_writer_body(w), h->body_size), 0);
    munmap(p, len);
    shm_writer_destroy(w);
}

static void
refuse_foreign(void **state)
{
    SHM_W  *w = writer(4, 2);
    unsigned char *p;
    QS_HEADER *h, save;
    size_t  len;
    int     fd;

    (void) state;
    p = map_rw(&len);
    h = (QS_HEADER *) p;
    save = *h;
    assert_int_equal(open_why(), SHM_OK);
    h->magic ^= 1;
    assert_int_equal(open_why(), SHM_FOREIGN);
    *h = save;
    h->major = QS_VERSION_MAJOR + 1;
    assert_int_equal(open_why(), SHM_VERSION);
    *h = save;
    h->minor = QS_VERSION_MINOR + 1;	/* a minor version is fine */
    assert_int_equal(open_why(), SHM_OK);
    *h = save;
    h->key_size += 8;
    assert_int_equal(open_why(), SHM_FOREIGN);
    *h = save;
    h->header_size -= 8;
    assert_int_equal(open_why(), SHM_FOREIGN);
    *h = save;
    h->max_keys += 1;			/* geometry disagrees with sizes */
    assert_int_equal(open_why(), SHM_FOREIGN);
    *h = save;
    h->nindex *= 2;
    assert_int_equal(open_why(), SHM_FOREIGN);
    *h = save;
    h->body_offset[1] += 64;
    assert_int_equal(open_why(), SHM_FOREIGN);
    *h = save;
    assert_int_equal(open_why(), SHM_OK);
    munmap(p, len);

    /* A file shorter than its header claims, or than a header. */
    fd = open(name, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t) len - 8), 0);
    assert_int_equal(open_why(), SHM_FOREIGN);
    assert_int_equal(ftruncate(fd, 16), 0);
    assert_int_equal(open_why(), SHM_FOREIGN);
    close(fd);
    shm_writer_destroy(w);
}

/* Fill a body with recognisable content. */
static void
fill(void *body, uint32_t nkeys, uint32_t tag)
{
    QS_BODY *b = body;
    QS_QUEUE *q = shm_body_queue(body);
    QS_TABLE *t = shm_body_table(body);
    QS_KEY *k = shm_body_key(body);
    uint32_t i;

    b->published = 1700000000 + tag;
    b->published_ns = 5;
    b->nqueues = 2;
    b->nbuckets = 10;
    b->nkeys = nkeys;
    strcpy(q[0].name, "incoming");
    strcpy(q[1].name, "deferred");
    q[1].count[0] = 1000 + tag;
    t[QS_KEY_SENDER_DOMAIN].first = 0;
    t[QS_KEY_SENDER_DOMAIN].nrows = nkeys;
    for (i = 0; i < nkeys; i++) {
	k[i].len = (uint16_t) snprintf(k[i].text, sizeof(k[i].text),
				       "d%u.example", i);
	k[i].hash = qs_key_hash(QS_KEY_SENDER_DOMAIN, k[i].text, k[i].len);
	k[i].count[1][0] = tag * 100 + i;
    }
}

static void
publish_copy(void **state)
{
    SHM_W  *w = writer(8, 4);
    SHM_R  *r = reader();
    size_t  size = shm_writer_body_size(w);
    unsigned char *buf = malloc(size);
    const QS_HEADER *h;
    unsigned char *p;
    SHM_STATS st;
    size_t  len;

    (void) state;
    assert_int_equal(shm_reader_body_size(r), size);
    assert_int_equal(shm_reader_heartbeat(r), 0);
    assert_int_equal(shm_reader_writer_pid(r), getpid());
    assert_int_equal(shm_reader_generation(r), 1);
    p = map_rw(&len);
    h = (const QS_HEADER *) p;

    fill(shm_writer_body(w), 8, 1);
    shm_writer_publish(w, 1700000001);
    assert_int_equal(h->seq, 1);
    assert_int_equal(h->latch, 1);
    assert_int_equal(shm_reader_heartbeat(r), 1700000001);
    assert_int_equal(shm_reader_copy(r, buf, size), 0);
    assert_int_equal(memcmp(buf, shm_writer_body(w), size), 0);
    assert_int_equal(((QS_BODY *) buf)->serial, 1);
    assert_string_equal(shm_body_key(buf)[7].text, "d7.example");
    assert_int_equal(shm_body_queue(buf)[1].count[0], 1001);

    shm_writer_clear(w);
    fill(shm_writer_body(w), 3, 2);
    shm_writer_publish(w, 1700000002);
    assert_int_equal(h->seq, 2);
    assert_int_equal(h->latch, 0);
    assert_int_equal(shm_reader_copy(r, buf, size), 0);
    assert_int_equal(memcmp(buf, shm_writer_body(w), size), 0);
    assert_int_equal(((QS_BODY *) buf)->serial, 2);
    assert_int_equal(((QS_BODY *) buf)->nkeys, 3);
    assert_int_equal(shm_body_key(buf)[4].len, 0);	/* cleared */
    shm_writer_heartbeat(w, 1700000010);
    assert_int_equal(shm_reader_heartbeat(r), 1700000010);

    errno = 0;
    assert_int_equal(shm_reader_copy(r, buf, size - 8), -1);
    assert_int_equal(errno, ERANGE);
    shm_reader_stats(r, &st);
    assert_int_equal(st.reads, 2);
    assert_int_equal(st.retries, 0);
    assert_int_equal(st.exhausted, 0);
    assert_int_equal(st.reopens, 0);
    munmap(p, len);
    free(buf);
    shm_reader_close(r);
    shm_writer_destroy(w);
}

/* A key of kind SENDER_DOMAIN whose index slot (nindex 16) is slot and
 * which is none of the n keys in used. */
static void
key_at(uint32_t slot, char *key, size_t size, char (*used)[32], int n)
{
    int     i, j;

    for (i = 0;; i++) {
	snprintf(key, size, "k%d.example", i);
	for (j = 0; j < n && strcmp(used[j], key) != 0; j++)
	     /* void */ ;
	if (j == n && (qs_key_hash(QS_KEY_SENDER_DOMAIN, key, strlen(key))
		       & 15) == slot)
	    return;
    }
}

static void
add(void *body, int kind, const char *key, size_t len, uint32_t count)
{
    QS_BODY *b = body;
    QS_THROTTLE *e = &shm_body_throttle(body)[b->nthrottle++];

    shm_throttle_set_key(e, kind, key, len);
    e->count = count;
    e->action = QS_ACTION_TEMPFAIL;
    strcpy(e->policy_name, "flood");
}

static int
find(SHM_R *r, int kind, const char *key, QS_THROTTLE *out)
{
    size_t  len = strlen(key);

    memset(out, 0, sizeof(*out));
    return shm_reader_find_throttle(r, kind, qs_key_hash(kind, key, len),
				    key, len, 0, out);
}

static void
find_throttle(void **state)
{
    SHM_W  *w = writer(4, 8);		/* nindex 16 */
    SHM_R  *r = reader();
    void   *body = shm_writer_body(w);
    char    k[6][32], longkey[300], otherlong[300];
    const uint32_t *index;
    QS_THROTTLE e, *forged;

    (void) state;
    key_at(3, k[0], 32, k, 0);		/* k0, k1 collide at slot 3 */
    key_at(3, k[1], 32, k, 1);
    key_at(3, k[2], 32, k, 2);		/* absent, same chain */
    key_at(15, k[3], 32, k, 3);		/* k3, k4 wrap from 15 to 0 */
    key_at(15, k[4], 32, k, 4);
    memset(longkey, 'L', sizeof(longkey));
    memcpy(otherlong, longkey, sizeof(longkey));
    otherlong[299] = 'M';		/* same stored text, other hash */
    add(body, QS_KEY_SENDER_DOMAIN, k[0], strlen(k[0]), 10);
    add(body, QS_KEY_SENDER_DOMAIN, k[1], strlen(k[1]), 11);
    add(body, QS_KEY_SENDER_DOMAIN, k[3], strlen(k[3]), 13);
    add(body, QS_KEY_SENDER_DOMAIN, k[4], strlen(k[4]), 14);
    add(body, QS_KEY_SENDER, longkey, sizeof(longkey), 20);
    add(body, QS_KEY_SENDER_DOMAIN, "x.example", 9, 21);
    forged = &shm_body_throttle(body)[5];	/* hash of "forged" */
    forged->hash = qs_key_hash(QS_KEY_SENDER_DOMAIN, "forged", 6);
    shm_writer_publish(w, 1);

    index = shm_body_index(body);
    assert_int_equal(index[3], 1);
    assert_int_equal(index[4], 2);
    assert_int_equal(index[15], 3);
    assert_int_equal(index[0], 4);

    assert_int_equal(find(r, QS_KEY_SENDER_DOMAIN, k[0], &e), 1);
    assert_int_equal(e.count, 10);
    assert_string_equal(e.text, k[0]);
    assert_string_equal(e.policy_name, "flood");
    assert_int_equal(e.action, QS_ACTION_TEMPFAIL);
    assert_int_equal(find(r, QS_KEY_SENDER_DOMAIN, k[1], &e), 1);
    assert_int_equal(e.count, 11);
    assert_int_equal(find(r, QS_KEY_SENDER_DOMAIN, k[3], &e), 1);
    assert_int_equal(e.count, 13);
    assert_int_equal(find(r, QS_KEY_SENDER_DOMAIN, k[4], &e), 1);
    assert_int_equal(e.count, 14);
    assert_int_equal(shm_reader_find_throttle(r, QS_KEY_SENDER,
		     qs_key_hash(QS_KEY_SENDER, longkey, 300), longkey, 300,
					      0, &e), 1);
    assert_int_equal(e.count, 20);

    assert_int_equal(find(r, QS_KEY_SENDER_DOMAIN, k[2], &e), 0);
    assert_int_equal(e.count, 0);	/* out untouched */
    assert_int_equal(find(r, QS_KEY_SENDER, k[0], &e), 0);	/* kind */
    assert_int_equal(find(r, QS_KEY_SENDER_DOMAIN, "forged", &e), 0);
    assert_int_equal(find(r, QS_KEY_SENDER_DOMAIN, "x.example", &e), 0);
    assert_int_equal(shm_reader_find_throttle(r, QS_KEY_SENDER,
		     qs_key_hash(QS_KEY_SENDER, otherlong, 300), otherlong,
					      300, 0, &e), 0);
    /* A prefix is not the key. */
    assert_int_equal(find(r, QS_KEY_SENDER_DOMAIN, "k", &e), 0);

    /* The summary of the set: sender_domain and sender keys (digest 0)
     * are there; no parent_domain key, nor any key of another digest. */
    assert_int_equal(shm_reader_any_throttle(r, QS_KEY_SENDER_DOMAIN, 0), 1);
    assert_int_equal(shm_reader_any_throttle(r, QS_KEY_SENDER, 0), 1);
    assert_int_equal(shm_reader_any_throttle(r, QS_KEY_PARENT_DOMAIN, 0), 0);
    assert_int_equal(shm_reader_any_throttle(r, QS_KEY_SENDER_DOMAIN, 7), 0);

    /* Gone after the next publication without them. */
    shm_writer_clear(w);
    shm_writer_publish(w, 2);
    assert_int_equal(find(r, QS_KEY_SENDER_DOMAIN, k[0], &e), 0);
    assert_int_equal(shm_reader_any_throttle(r, QS_KEY_SENDER_DOMAIN, 0), 0);
    shm_reader_close(r);
    shm_writer_destroy(w);
}

static void
retire_follow(void **state)
{
    SHM_W  *w1 = writer(4, 2), *w2, *w3;
    SHM_R  *r = reader();
    size_t  size1 = shm_writer_body_size(w1), size2;
    unsigned char *buf = malloc(size1), *old, *big;
    size_t  oldlen;
    QS_THROTTLE e;
    SHM_STATS st;

    (void) state;
    fill(shm_writer_body(w1), 4, 1);
    shm_writer_publish(w1, 100);
    assert_int_equal(shm_reader_copy(r, buf, size1), 0);
    old = map_rw(&oldlen);

    /* A capacity change: a new segment, the old one retired. */
    w2 = writer(64, 8);
    size2 = shm_writer_body_size(w2);
    assert_true(size2 > size1);
    assert_int_equal(((QS_HEADER *) old)->retired, 1);
    assert_int_equal(shm_reader_generation(r), 1);	/* not yet */
    fill(shm_writer_body(w2), 40, 2);
    add(shm_writer_body(w2), QS_KEY_RCPT_DOMAIN, "r.example", 9, 7);
    shm_writer_publish(w2, 200);

    errno = 0;
    assert_int_equal(shm_reader_copy(r, buf, size1), -1);
    assert_int_equal(errno, ERANGE);
    assert_int_equal(shm_reader_body_size(r), size2);
    assert_int_equal(shm_reader_generation(r), 2);
    assert_int_equal(shm_reader_heartbeat(r), 200);
    big = malloc(size2);
    assert_int_equal(shm_reader_copy(r, big, size2), 0);
    assert_int_equal(memcmp(big, shm_writer_body(w2), size2), 0);
    assert_int_equal(((QS_BODY *) big)->nkeys, 40);

    /* A restart with the same capacity; lookups follow too. */
    w3 = writer(64, 8);
    add(shm_writer_body(w3), QS_KEY_RCPT_DOMAIN, "r.example", 9, 9);
    shm_writer_publish(w3, 300);
    assert_int_equal(find(r, QS_KEY_RCPT_DOMAIN, "r.example", &e), 1);
    assert_int_equal(e.count, 9);
    assert_int_equal(shm_reader_generation(r), 3);
    shm_reader_stats(r, &st);
    assert_int_equal(st.reopens, 2);

    /* The old writers can still publish into their orphans: harmless. */
    shm_writer_publish(w1, 400);
    assert_int_equal(shm_reader_heartbeat(r), 300);
    munmap(old, oldlen);
    free(buf);
    free(big);
    shm_reader_close(r);
    shm_writer_destroy(w1);
    shm_writer_destroy(w2);
    shm_writer_destroy(w3);
}

static void
destroy_keeps(void **state)
{
    SHM_W  *w = writer(4, 2);
    SHM_R  *r;

    (void) state;
    shm_writer_publish(w, 500);
    shm_writer_destroy(w);
    r = reader();			/* still there, heartbeat stale */
    assert_int_equal(shm_reader_heartbeat(r), 500);
    assert_int_equal(shm_reader_generation(r), 1);
    shm_reader_close(r);
}

static void
attach_and_corrupt(void **state)
{
    SHM_W  *w = writer(4, 2);
    SHM_R  *a = shm_reader_attach(w), *r = reader();
    size_t  size = shm_writer_body_size(w), len;
    unsigned char *buf = malloc(size), *p;
    const QS_HEADER *h;
    QS_BODY *b;
    QS_THROTTLE e;

    (void) state;
    assert_non_null(a);
    fill(shm_writer_body(w), 4, 3);
    add(shm_writer_body(w), QS_KEY_SENDER, "s@example", 9, 1);
    shm_writer_publish(w, 600);
    assert_int_equal(shm_reader_copy(a, buf, size), 0);
    assert_int_equal(memcmp(buf, shm_writer_body(w), size), 0);
    assert_int_equal(find(a, QS_KEY_SENDER, "s@example", &e), 1);

    /* A body whose frame disagrees with the geometry is refused. */
    p = map_rw(&len);
    h = (const QS_HEADER *) p;
    b = (QS_BODY *) (p + h->body_offset[h->latch]);
    b->nkeys = 5;
    errno = 0;
    assert_int_equal(shm_reader_copy(r, buf, size), -1);
    assert_int_equal(errno, EPROTO);
    b->nkeys = 4;
    shm_body_table(b)[QS_KEY_SENDER].first = 3;
    shm_body_table(b)[QS_KEY_SENDER].nrows = 2;
    assert_int_equal(shm_reader_copy(r, buf, size), -1);
    shm_body_table(b)[QS_KEY_SENDER].nrows = 1;
    assert_int_equal(shm_reader_copy(r, buf, size), 0);
    b->off_key += 8;
    assert_int_equal(shm_reader_copy(r, buf, size), -1);
    b->off_key -= 8;
    /* An index slot beyond throttle[]. */
    shm_body_index(b)[qs_key_hash(QS_KEY_SENDER, "s@example", 9) & 3] = 3;
    errno = 0;
    assert_int_equal(find(r, QS_KEY_SENDER, "s@example", &e), -1);
    assert_int_equal(errno, EPROTO);
    munmap(p, len);
    free(buf);
    shm_reader_close(a);
    shm_reader_close(r);
    shm_writer_destroy(w);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(hash_known),
	cmocka_unit_test_setup_teardown(refuse_args, setup, teardown),
	cmocka_unit_test_setup_teardown(create_header, setup, teardown),
	cmocka_unit_test_setup_teardown(refuse_foreign, setup, teardown),
	cmocka_unit_test_setup_teardown(publish_copy, setup, teardown),
	cmocka_unit_test_setup_teardown(find_throttle, setup, teardown),
	cmocka_unit_test_setup_teardown(retire_follow, setup, teardown),
	cmocka_unit_test_setup_teardown(destroy_keeps, setup, teardown),
	cmocka_unit_test_setup_teardown(attach_and_corrupt, setup, teardown),
    };

    return cmocka_run_group_tests(tests, 0, 0);
}
