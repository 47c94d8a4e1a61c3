/*
 * Unit tests for adm_rpc's reading of a controller's answer: the top-level Kafka error code and
 * message of any response envelope (the network half is covered by
 * tests/integration/0017_admin_rpc.sh against stand-in controllers).
 */
#include "controller/admin/adm_rpc.h"

#include <criterion/criterion.h>

Test(adm_rpc, reads_the_code_of_an_error_response)
{
    Samsa__Envelope env = SAMSA__ENVELOPE__INIT;
    Samsa__ErrorResponse er = SAMSA__ERROR_RESPONSE__INIT;
    const char *msg = NULL;

    er.has_error_code = 1;
    er.error_code = 41;
    er.error_message = "not the controller";
    env.payload_case = SAMSA__ENVELOPE__PAYLOAD_ERROR_RESPONSE;
    env.error_response = &er;
    cr_assert_eq(adm_rpc_error_code(&env, &msg), 41);
    cr_assert_str_eq(msg, "not the controller");
}

Test(adm_rpc, reads_the_top_level_code_of_a_typed_response)
{
    Samsa__Envelope env = SAMSA__ENVELOPE__INIT;
    Samsa__CreateTopicsResponse cr = SAMSA__CREATE_TOPICS_RESPONSE__INIT;
    const char *msg = "unchanged";

    cr.has_error_code = 1;
    cr.error_code = 7;
    env.payload_case = SAMSA__ENVELOPE__PAYLOAD_CREATE_TOPICS_RESPONSE;
    env.create_topics_response = &cr;
    cr_assert_eq(adm_rpc_error_code(&env, &msg), 7);
    cr_assert_null(msg);
}

Test(adm_rpc, reads_zero_from_an_envelope_without_payload)
{
    Samsa__Envelope env = SAMSA__ENVELOPE__INIT;
    const char *msg = "unchanged";

    cr_assert_eq(adm_rpc_error_code(&env, &msg), 0);
    cr_assert_null(msg);
    cr_assert_eq(adm_rpc_error_code(NULL, NULL), 0);
}

Test(adm_rpc, releases_an_empty_result)
{
    adm_rpc_result_t res = {0};

    adm_rpc_result_deinit(&res);
    adm_rpc_result_deinit(NULL);
    cr_assert_null(res.resp);
}
