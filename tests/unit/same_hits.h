/* Two searches' answers are the same: the same hits, in the same order, with the same score bits
 * (the search's parity rule: built or mapped, pruned or exhaustive). Header-only; include after
 * cmocka.h and search.h. */
#ifndef WS_TEST_SAME_HITS_H
#define WS_TEST_SAME_HITS_H

static void assert_same_hits(const ws_search_hit *ha, size_t na, const ws_search_hit *hb, size_t nb)
{
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        assert_int_equal(ha[i].doc, hb[i].doc);
        assert_memory_equal(&ha[i].score, &hb[i].score, sizeof ha[i].score);
    }
}

#endif
