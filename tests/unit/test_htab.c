/*
 * Unit tests for htab.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
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

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(insert_find),
    };

    return cmocka_run_group_tests_name("htab", tests, 0, 0);
}
