/*
 * Unit tests for htab.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "htab.h"

static void
insert_find(void **state)
{
    HTAB   *t = htab_create(sizeof(long));
    int     created;
    long   *v;
    char    key[32];
    int     i;

    (void) state;
    assert_null(htab_find(t, "a", 1));
    v = htab_insert(t, "a", 1, &created);
    assert_int_equal(created, 1);
    assert_int_equal(*v, 0);
    *v = 42;
    assert_ptr_equal(htab_insert(t, "a", 1, &created), v);
    assert_int_equal(created, 0);
    /* Keys are byte strings: NULs and prefixes are distinct keys. */
    *(long *) htab_insert(t, "a\0b", 3, 0) = 7;
    *(long *) htab_insert(t, "", 0, 0) = 9;
    assert_int_equal(*(long *) htab_find(t, "a\0b", 3), 7);
    assert_int_equal(*(long *) htab_find(t, "", 0), 9);
    assert_int_equal(*(long *) htab_find(t, "a", 1), 42);
    /* Growth keeps values where they were and keeps insertion order. */
    for (i = 0; i < 20000; i++) {
	snprintf(key, sizeof(key), "k%d", i);
	*(long *) htab_insert(t, key, strlen(key), 0) = i;
    }
    assert_ptr_equal(htab_find(t, "a", 1), v);
    assert_int_equal(htab_count(t), 20003);
    for (i = 0; i < 20000; i++) {
	HTAB_ENTRY e = htab_entry(t, (size_t) i + 3);

	snprintf(key, sizeof(key), "k%d", i);
	assert_string_equal(e.key, key);
	assert_int_equal(*(long *) e.value, i);
    }
    htab_destroy(t);
    htab_destroy(0);
}

/* HTAB_IDS over keys the test holds in an array that moves (realloc). */
typedef struct STORE {
    char  (*key)[16];			/* [id] */
    size_t  n;
} STORE;

static const void *
store_key(void *ctx, uint32_t id, size_t *len)
{
    STORE  *st = ctx;

    *len = strlen(st->key[id]);
    return st->key[id];
}

static uint32_t
store_add(STORE *st, const char *k)
{
    st->key = realloc(st->key, (st->n + 2) * sizeof(*st->key));
    assert_non_null(st->key);
    snprintf(st->key[++st->n], sizeof(*st->key), "%s", k);
    return (uint32_t) st->n;
}

static void
ids_add_find_remove(void **state)
{
    STORE   st = {0, 0};
    HTAB_IDS *t = htab_ids_create(store_key, &st);
    size_t  empty = htab_ids_bytes(t);
    char    key[16];
    uint32_t i, id;

    (void) state;
    assert_int_equal(htab_ids_find(t, "x", 1), 0);
    assert_int_equal(htab_ids_remove(t, "x", 1), 0);
    for (i = 0; i < 20000; i++) {
	snprintf(key, sizeof(key), "Q%uX", i);
	id = store_add(&st, key);
	htab_ids_add(t, key, strlen(key), id);
    }
    assert_int_equal(htab_ids_count(t), 20000);
    assert_true(htab_ids_bytes(t) > empty);
    for (i = 0; i < 20000; i++) {
	snprintf(key, sizeof(key), "Q%uX", i);
	assert_int_equal(htab_ids_find(t, key, strlen(key)), i + 1);
    }
    /* Prefixes and extensions are other keys. */
    assert_int_equal(htab_ids_find(t, "Q1", 2), 0);
    assert_int_equal(htab_ids_find(t, "Q1XX", 4), 0);
    /* Remove the odd ones: the even ones stay findable (backward shift
     * keeps every probe chain whole). */
    for (i = 1; i < 20000; i += 2) {
	snprintf(key, sizeof(key), "Q%uX", i);
	assert_int_equal(htab_ids_remove(t, key, strlen(key)), i + 1);
	assert_int_equal(htab_ids_remove(t, key, strlen(key)), 0);
    }
    assert_int_equal(htab_ids_count(t), 10000);
    for (i = 0; i < 20000; i++) {
	snprintf(key, sizeof(key), "Q%uX", i);
	assert_int_equal(htab_ids_find(t, key, strlen(key)),
			 i % 2 ? 0 : i + 1);
    }
    /* Emptied, the table is back to its first size. */
    for (i = 0; i < 20000; i += 2) {
	snprintf(key, sizeof(key), "Q%uX", i);
	assert_int_equal(htab_ids_remove(t, key, strlen(key)), i + 1);
    }
    assert_int_equal(htab_ids_count(t), 0);
    assert_int_equal(htab_ids_bytes(t), empty);
    htab_ids_destroy(t);
    htab_ids_destroy(0);
    free(st.key);
}

/* Random adds and removes against a plain array: every answer agrees. */
static void
ids_churn(void **state)
{
    enum { NKEYS = 3000, STEPS = 200000 };
    STORE   st = {0, 0};
    HTAB_IDS *t = htab_ids_create(store_key, &st);
    static uint32_t in[NKEYS];		/* id of key k in the table, or 0 */
    uint64_t x = 88172645463325252ULL;	/* xorshift64 */
    size_t  count = 0, key_len;
    uint32_t k, i, id;
    char    key[16];

    (void) state;
    for (k = 0; k < NKEYS; k++) {
	snprintf(key, sizeof(key), "%u", k * 2654435761u);
	assert_int_equal(store_add(&st, key), k + 1);
    }
    for (i = 0; i < STEPS; i++) {
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	k = (uint32_t) (x % NKEYS);
	id = k + 1;
	key_len = strlen(st.key[id]);
	if (in[k]) {
	    assert_int_equal(htab_ids_find(t, st.key[id], key_len), id);
	    assert_int_equal(htab_ids_remove(t, st.key[id], key_len), id);
	    in[k] = 0;
	    count--;
	} else {
	    assert_int_equal(htab_ids_find(t, st.key[id], key_len), 0);
	    htab_ids_add(t, st.key[id], key_len, id);
	    in[k] = id;
	    count++;
	}
	assert_int_equal(htab_ids_count(t), count);
    }
    for (k = 0; k < NKEYS; k++)
	assert_int_equal(htab_ids_find(t, st.key[k + 1],
				       strlen(st.key[k + 1])), in[k]);
    htab_ids_destroy(t);
    free(st.key);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(insert_find),
	cmocka_unit_test(ids_add_find_remove),
	cmocka_unit_test(ids_churn),
    };

    return cmocka_run_group_tests_name("htab", tests, 0, 0);
}
