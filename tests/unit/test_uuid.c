/*
 * test_uuid: Kafka's base64url text form of UUIDs (vectors from Python's
 * base64.urlsafe_b64encode with the padding stripped, which is what Kafka prints), parsing of
 * good and bad text, and the properties of random v4 UUIDs.
 */
#include "sm_uuid.h"

#include <criterion/criterion.h>
#include <string.h>

struct uuid_vector {
    uint8_t b[16];
    const char *text;
};

static const struct uuid_vector vectors[] = {
    {{0}, "AAAAAAAAAAAAAAAAAAAAAA"},
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, "AAAAAAAAAAAAAAAAAAAAAQ"},
    {{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, "AAECAwQFBgcICQoLDA0ODw"},
    {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff},
     "_____________________w"},
    {{0xf8, 0x1d, 0x4f, 0xae, 0x7d, 0xec, 0x11, 0xd0, 0xa7, 0x65, 0x00, 0xa0, 0xc9, 0x1e, 0x6b,
      0xf6},
     "-B1Prn3sEdCnZQCgyR5r9g"},
};

Test(uuid, formats_as_22_base64url_characters)
{
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        sm_uuid_t u;
        char text[SM_UUID_STR_SIZE];

        memcpy(u.b, vectors[i].b, 16);
        sm_uuid_format(&u, text);
        cr_assert_str_eq(text, vectors[i].text);
        cr_assert_eq(strlen(text), SM_UUID_STR_LEN);
    }
}

Test(uuid, parses_what_it_formats)
{
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        sm_uuid_t u;

        cr_assert_eq(sm_uuid_parse(vectors[i].text, strlen(vectors[i].text), &u), SM_OK);
        cr_assert(memcmp(u.b, vectors[i].b, 16) == 0, "vector %zu", i);
    }
}

Test(uuid, parses_the_padded_form)
{
    sm_uuid_t u;

    cr_assert_eq(sm_uuid_parse("AAECAwQFBgcICQoLDA0ODw==", 24, &u), SM_OK);
    cr_assert_eq(u.b[15], 15);
}

Test(uuid, rejects_malformed_text)
{
    static const char *const bad[] = {
        "",
        "AAAAAAAAAAAAAAAAAAAAA",    /* 21 */
        "AAAAAAAAAAAAAAAAAAAAAAA",  /* 23 */
        "AAAAAAAAAAAAAAAAAAAAAA=",  /* 23 */
        "AAAAAAAAAAAAAAAAAAAAAAAA", /* 24 without padding */
        "AAAAAAAAAAAAAAAAAAAAA+",   /* standard base64, not url */
        "AAAAAAAAAAA/AAAAAAAAAA",   /* standard base64, not url */
        "AAAAAAAAAAAAAAAAAAAA=A",   /* padding inside */
        "AAAAAAAAAAAAAAAAAAAAAB",   /* unused low bits set */
        "AAAAAAAAAAAAAAAAAAAAA_",   /* unused low bits set */
        "AAAAAAAAAA AAAAAAAAAAA",
    };
    sm_uuid_t u;

    memset(u.b, 0x5a, 16);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(sm_uuid_parse(bad[i], strlen(bad[i]), &u), SM_ERR_INVALID, "\"%s\"", bad[i]);
    cr_assert_eq(sm_uuid_parse(NULL, 22, &u), SM_ERR_INVALID);
    cr_assert_eq(u.b[0], 0x5a); /* untouched */
}

Test(uuid, parse_uses_len_not_a_terminator)
{
    sm_uuid_t u;

    cr_assert_eq(sm_uuid_parse("AAECAwQFBgcICQoLDA0ODwXYZ", 22, &u), SM_OK);
    cr_assert_eq(u.b[1], 1);
}

Test(uuid, zero_check_and_equality)
{
    sm_uuid_t a = SM_UUID_ZERO, b = SM_UUID_ZERO;

    cr_assert(sm_uuid_is_zero(&a));
    cr_assert(sm_uuid_eq(&a, &b));
    b.b[15] = 1;
    cr_assert(!sm_uuid_is_zero(&b));
    cr_assert(!sm_uuid_eq(&a, &b));
}

Test(uuid, random_uuids_are_version_4_distinct_and_never_start_with_dash)
{
    sm_uuid_t prev = SM_UUID_ZERO;

    for (int i = 0; i < 2000; i++) {
        sm_uuid_t u;
        char text[SM_UUID_STR_SIZE];

        cr_assert_eq(sm_uuid_random(&u), SM_OK);
        cr_assert_eq(u.b[6] >> 4, 4);
        cr_assert_eq(u.b[8] >> 6, 2);
        cr_assert(!sm_uuid_is_zero(&u));
        cr_assert(!sm_uuid_eq(&u, &prev));
        sm_uuid_format(&u, text);
        cr_assert_neq(text[0], '-');
        prev = u;
    }
}
