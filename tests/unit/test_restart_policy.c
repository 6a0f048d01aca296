/* hv/guest/restart_policy.c: parsing the policy keys and the restart limit
 * (max_restarts = N within T) at its edges. */
#include "hv/guest/restart_policy.h"

#include "include/hv/abi.h"
#include "tests/unit/check.h"

#define MS 1000000ULL /* ns */

static void actions_parse(void)
{
    uint8_t a = 9;
    CHECK(guest_action_parse("stop", &a) && a == GUEST_ACTION_STOP);
    CHECK(guest_action_parse("restart", &a) && a == GUEST_ACTION_RESTART);
    CHECK(guest_action_parse("halt", &a) && a == GUEST_ACTION_HALT);
    a = 7;
    CHECK(!guest_action_parse("", &a) && a == 7);
    CHECK(!guest_action_parse("restarts", &a));
    CHECK(!guest_action_parse("HALT", &a));
    CHECK(strcmp(guest_action_name(GUEST_ACTION_RESTART), "restart") == 0);
    CHECK(strcmp(guest_action_name(99), "?") == 0);
}

static void limits_parse(void)
{
    uint32_t n = 77;
    uint64_t w = 77;
    CHECK(guest_restart_limit_parse("3", &n, &w) && n == 3 && w == 0);
    CHECK(guest_restart_limit_parse("3 within 60s", &n, &w) && n == 3 && w == 60000);
    CHECK(guest_restart_limit_parse("0 within 1ms", &n, &w) && n == 0 && w == 1);
    CHECK(guest_restart_limit_parse("64 within 2h", &n, &w) && n == 64 && w == 7200000);
    CHECK(guest_restart_limit_parse("5 within 10m", &n, &w) && n == 5 && w == 600000);
    CHECK(guest_restart_limit_parse(" 2  within  500ms ", &n, &w) && n == 2 && w == 500);
    n = 77;
    w = 77;
    static const char *const bad[] = {"", "x", "65", "-1", "3 within", "3 within 60",
                                      "3 within 0s", "3 within 60 s", "3 within 60sec",
                                      "3 within 9000h", "3 during 60s", "3 within 99999999999999s",
                                      "3 within 60s x", "1000000000000000000000"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK(!guest_restart_limit_parse(bad[i], &n, &w));
        CHECK(n == 77 && w == 77); /* untouched on refusal */
    }
}

/* max_restarts = 3 within 1 s: three restarts in a second, the fourth
 * only once the first is a second old. */
static void limit_in_a_window(void)
{
    struct guest_policy p;
    guest_policy_default(&p);
    p.max_restarts = 3;
    p.window_ms = 1000;
    struct restart_history h = {0};
    uint64_t t = 5000 * MS;
    for (int i = 0; i < 3; i++) {
        CHECK(guest_restart_allowed(&p, &h, t + i * 10 * MS));
        guest_restart_record(&h, t + i * 10 * MS);
    }
    CHECK(!guest_restart_allowed(&p, &h, t + 30 * MS));
    CHECK(!guest_restart_allowed(&p, &h, t + 999 * MS));
    CHECK(guest_restart_allowed(&p, &h, t + 1000 * MS));
    guest_restart_record(&h, t + 1000 * MS);
    /* Now the second restart (t + 10 ms) is the oldest of the last three. */
    CHECK(!guest_restart_allowed(&p, &h, t + 1009 * MS));
    CHECK(guest_restart_allowed(&p, &h, t + 1010 * MS));
}

/* No window: N restarts in the whole run; 0: never. */
static void limit_for_the_whole_run(void)
{
    struct guest_policy p;
    guest_policy_default(&p);
    p.max_restarts = 2;
    p.window_ms = 0;
    struct restart_history h = {0};
    CHECK(guest_restart_allowed(&p, &h, 0));
    guest_restart_record(&h, 0);
    guest_restart_record(&h, 1);
    CHECK(!guest_restart_allowed(&p, &h, 1000000 * MS));
    p.max_restarts = 0;
    struct restart_history none = {0};
    CHECK(!guest_restart_allowed(&p, &none, 0));
    p.window_ms = 1000;
    CHECK(!guest_restart_allowed(&p, &none, 0));
}

/* The history is a ring of GUEST_MAX_RESTARTS: far more restarts than
 * that still judge the window by the right one. */
static void many_restarts_wrap_the_ring(void)
{
    struct guest_policy p;
    guest_policy_default(&p);
    p.max_restarts = GUEST_MAX_RESTARTS;
    p.window_ms = 1;
    struct restart_history h = {0};
    uint64_t t = 0;
    for (int i = 0; i < 1000; i++) {
        CHECK(guest_restart_allowed(&p, &h, t));
        guest_restart_record(&h, t);
        t += MS / GUEST_MAX_RESTARTS + 1; /* 64 restarts span just over 1 ms */
    }
    CHECK_EQ_U64(h.count, 1000);
    /* 64 at once: the 65th within the same ms is refused. */
    struct restart_history burst = {0};
    for (int i = 0; i < GUEST_MAX_RESTARTS; i++)
        guest_restart_record(&burst, 7 * MS);
    CHECK(!guest_restart_allowed(&p, &burst, 7 * MS + MS - 1));
    CHECK(guest_restart_allowed(&p, &burst, 8 * MS));
}

/* The image's restart-policy note: stop or restart only, at most the
 * default rate, each field overridden by the hv.cfg key that names it. */
static void note_asks_within_its_rights(void)
{
    struct guest_policy p;
    char why[200];
    guest_policy_default(&p);
    struct hv_image_policy n = {HV_NOTE_ACTION_RESTART, HV_NOTE_ACTION_RESTART, 2, 120};
    CHECK(guest_policy_apply_note(&p, 0, &n, why, sizeof(why)));
    CHECK_EQ_U64(p.on_exit, GUEST_ACTION_RESTART);
    CHECK_EQ_U64(p.on_fault, GUEST_ACTION_RESTART);
    CHECK_EQ_U64(p.max_restarts, 2);
    CHECK_EQ_U64(p.window_ms, 120000);
    CHECK_STR_EQ(why, "");

    /* Zeros keep what is there: the defaults. */
    guest_policy_default(&p);
    struct hv_image_policy zero = {0, 0, 0, 0};
    CHECK(guest_policy_apply_note(&p, 0, &zero, why, sizeof(why)));
    CHECK_EQ_U64(p.on_exit, GUEST_ACTION_STOP);
    CHECK_EQ_U64(p.on_fault, GUEST_ACTION_STOP);
    CHECK_EQ_U64(p.max_restarts, GUEST_DEFAULT_MAX_RESTARTS);
    CHECK_EQ_U64(p.window_ms, GUEST_DEFAULT_RESTART_WINDOW_MS);

    /* Only max_restarts: the default window; only the window: the default count. */
    struct hv_image_policy only_n = {0, 0, 1, 0}, only_w = {0, 0, 0, 600};
    guest_policy_default(&p);
    CHECK(guest_policy_apply_note(&p, 0, &only_n, why, sizeof(why)));
    CHECK_EQ_U64(p.max_restarts, 1);
    CHECK_EQ_U64(p.window_ms, GUEST_DEFAULT_RESTART_WINDOW_MS);
    guest_policy_default(&p);
    CHECK(guest_policy_apply_note(&p, 0, &only_w, why, sizeof(why)));
    CHECK_EQ_U64(p.max_restarts, GUEST_DEFAULT_MAX_RESTARTS);
    CHECK_EQ_U64(p.window_ms, 600000);
}

static void note_never_halts_nor_restarts_faster(void)
{
    struct guest_policy p, before;
    char why[200];
    guest_policy_default(&p);
    before = p;
    struct hv_image_policy halt = {0, 3, 0, 0};
    CHECK(!guest_policy_apply_note(&p, 0, &halt, why, sizeof(why)));
    CHECK_STR_EQ(why, "policy note: on_fault = 3: only stop (1) or restart (2)");
    CHECK(memcmp(&p, &before, sizeof(p)) == 0);
    struct hv_image_policy odd = {0xffffffffu, 0, 0, 0};
    CHECK(!guest_policy_apply_note(&p, 0, &odd, why, sizeof(why)));
    CHECK(strstr(why, "on_exit = 4294967295:") != NULL);
    struct hv_image_policy many = {0, 2, 6, 0}, fast = {0, 2, 5, 59};
    CHECK(!guest_policy_apply_note(&p, 0, &many, why, sizeof(why)));
    CHECK(strstr(why, "max_restarts = 6 within 60 s") != NULL);
    CHECK(!guest_policy_apply_note(&p, 0, &fast, why, sizeof(why)));
    CHECK(strstr(why, "max_restarts = 5 within 59 s") != NULL);
    CHECK(memcmp(&p, &before, sizeof(p)) == 0);
}

static void cfg_keys_win_over_the_note(void)
{
    struct guest_policy p;
    char why[200];
    /* hv.cfg said on_fault = halt and max_restarts = 64 within 1s: the
     * note's halt and its rate are not asked, so not refused. */
    guest_policy_default(&p);
    p.on_fault = GUEST_ACTION_HALT;
    p.max_restarts = 64;
    p.window_ms = 1000;
    struct hv_image_policy n = {HV_NOTE_ACTION_RESTART, 3, 64, 1};
    CHECK(guest_policy_apply_note(&p, GUEST_POLICY_CFG_ON_FAULT | GUEST_POLICY_CFG_MAX_RESTARTS,
                                  &n, why, sizeof(why)));
    CHECK_EQ_U64(p.on_exit, GUEST_ACTION_RESTART); /* hv.cfg left it to the note */
    CHECK_EQ_U64(p.on_fault, GUEST_ACTION_HALT);
    CHECK_EQ_U64(p.max_restarts, 64);
    CHECK_EQ_U64(p.window_ms, 1000);
    /* hv.cfg's on_exit = stop wins over the note's restart. */
    guest_policy_default(&p);
    struct hv_image_policy r = {HV_NOTE_ACTION_RESTART, 0, 0, 0};
    CHECK(guest_policy_apply_note(&p, GUEST_POLICY_CFG_ON_EXIT, &r, why, sizeof(why)));
    CHECK_EQ_U64(p.on_exit, GUEST_ACTION_STOP);
}

int main(void)
{
    check_suite = "restart_policy";
    RUN_TEST(actions_parse);
    RUN_TEST(limits_parse);
    RUN_TEST(limit_in_a_window);
    RUN_TEST(limit_for_the_whole_run);
    RUN_TEST(many_restarts_wrap_the_ring);
    RUN_TEST(note_asks_within_its_rights);
    RUN_TEST(note_never_halts_nor_restarts_faster);
    RUN_TEST(cfg_keys_win_over_the_note);
    return check_finish();
}
