/*
 * Unit tests for sm_config: Java Properties syntax, --override, typed validation, getters,
 * value helpers and the broker/controller command line.
 */
#include "sm_config.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const test_levels[] = {"debug", "info", "warn", "error", NULL};

static const sm_config_key_t test_schema[] = {
    {.name = "broker.id",
     .type = SM_CONFIG_INT32,
     .flags = SM_CONFIG_REQUIRED,
     .min = 0,
     .max = INT32_MAX,
     .doc = "id"},
    {.name = "zookeeper.connect",
     .type = SM_CONFIG_STRING,
     .flags = SM_CONFIG_REQUIRED,
     .check = sm_config_check_zk_connect},
    {.name = "listeners",
     .type = SM_CONFIG_LIST,
     .def = "PLAINTEXT://127.0.0.1:9092",
     .check = sm_config_check_listener},
    {.name = "log.dirs", .type = SM_CONFIG_LIST, .flags = SM_CONFIG_REQUIRED},
    {.name = "log.dir", .type = SM_CONFIG_LIST, .alias_of = "log.dirs"},
    {.name = "log.retention.ms", .type = SM_CONFIG_INT64, .min = -1, .max = INT64_MAX},
    {.name = "log.retention.bytes", .type = SM_CONFIG_INT64, .def = "-1"},
    {.name = "log.segment.bytes",
     .type = SM_CONFIG_INT32,
     .def = "1073741824",
     .min = 14,
     .max = INT32_MAX},
    {.name = "num.partitions", .type = SM_CONFIG_INT32, .def = "1"},
    {.name = "auto.create.topics.enable", .type = SM_CONFIG_BOOL, .def = "true"},
    {.name = "log.level", .type = SM_CONFIG_ENUM, .def = "info", .choices = test_levels},
    {.name = "advertised.listeners", .type = SM_CONFIG_LIST, .check = sm_config_check_listener},
    {.name = "note", .type = SM_CONFIG_STRING},
};
#define TEST_N (sizeof(test_schema) / sizeof(test_schema[0]))

#define MINIMAL "broker.id=1\nzookeeper.connect=127.0.0.1:2181\nlog.dirs=/tmp/a\n"

/* Loads text as "server.properties", validates, returns the result; cfg stays for getters. */
static sm_err_t load(sm_config_t **cfg, const char *text, sm_errbuf_t *eb)
{
    sm_err_t err;

    cr_assert_eq(sm_config_new(test_schema, TEST_N, cfg), SM_OK);
    memset(eb, 0, sizeof(*eb));
    err = sm_config_load_string(*cfg, "server.properties", text, strlen(text), eb);
    if (err == SM_OK)
        err = sm_config_validate(*cfg, eb);
    return err;
}

/* Expects text to fail with exactly msg. */
static void expect_error(const char *text, const char *msg)
{
    sm_config_t *cfg = NULL;
    sm_errbuf_t eb;
    sm_err_t err = load(&cfg, text, &eb);

    sm_config_free(cfg);
    cr_assert_neq(err, SM_OK, "expected failure for: %s", text);
    cr_assert_str_eq(eb.msg, msg);
    cr_assert_null(strchr(eb.msg, '\n'), "error is one line");
}

Test(config, loads_good_file_and_applies_defaults)
{
    sm_config_t *cfg = NULL;
    sm_errbuf_t eb;
    size_t n;
    const char *const *l;

    cr_assert_eq(load(&cfg, MINIMAL, &eb), SM_OK, "%s", eb.msg);
    cr_assert_eq(sm_config_get_int(cfg, "broker.id"), 1);
    cr_assert_str_eq(sm_config_get_str(cfg, "zookeeper.connect"), "127.0.0.1:2181");
    cr_assert_eq(sm_config_get_i64(cfg, "log.retention.bytes"), -1);
    cr_assert_eq(sm_config_get_int(cfg, "log.segment.bytes"), 1073741824);
    cr_assert(sm_config_get_bool(cfg, "auto.create.topics.enable"));
    cr_assert_eq(sm_config_get_enum(cfg, "log.level"), 1);
    l = sm_config_get_list(cfg, "listeners", &n);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(l[0], "PLAINTEXT://127.0.0.1:9092");
    cr_assert(sm_config_is_set(cfg, "broker.id"));
    cr_assert_not(sm_config_is_set(cfg, "num.partitions"));
    cr_assert(sm_config_has(cfg, "num.partitions"));
    cr_assert_not(sm_config_has(cfg, "log.retention.ms"));
    cr_assert_eq(sm_config_get_i64(cfg, "log.retention.ms"), 0);
    cr_assert_null(sm_config_get_str(cfg, "note"));
    l = sm_config_get_list(cfg, "advertised.listeners", &n);
    cr_assert_eq(n, 0);
    sm_config_free(cfg);
}

Test(config, accepts_equals_colon_and_space_separators)
{
    sm_config_t *cfg = NULL;
    sm_errbuf_t eb;

    cr_assert_eq(load(&cfg,
                      "broker.id = 7\n"
                      "zookeeper.connect:127.0.0.1:2181/samsa\n"
                      "log.dirs /data/a\n"
                      "num.partitions\t : 3\n"
                      "note   =   hello world  \n",
                      &eb),
                 SM_OK, "%s", eb.msg);
    cr_assert_eq(sm_config_get_int(cfg, "broker.id"), 7);
    cr_assert_str_eq(sm_config_get_str(cfg, "zookeeper.connect"), "127.0.0.1:2181/samsa");
    cr_assert_str_eq(sm_config_get_str(cfg, "log.dirs"), "/data/a");
    cr_assert_eq(sm_config_get_int(cfg, "num.partitions"), 3);
    cr_assert_str_eq(sm_config_get_str(cfg, "note"), "hello world");
    sm_config_free(cfg);
}

Test(config, ignores_comments_blank_lines_and_leading_blanks)
{
    sm_config_t *cfg = NULL;
    sm_errbuf_t eb;

    cr_assert_eq(load(&cfg,
                      "# a comment\n"
                      "! another = comment\n"
                      "\n"
                      "   \t\n"
                      "   broker.id=2\r\n"
                      "\t# indented comment\r"
                      "zookeeper.connect=h:1\n"
                      "log.dirs=/x",
                      &eb),
                 SM_OK, "%s", eb.msg);
    cr_assert_eq(sm_config_get_int(cfg, "broker.id"), 2);
    cr_assert_str_eq(sm_config_get_str(cfg, "log.dirs"), "/x");
    sm_config_free(cfg);
}

Test(config, joins_lines_ending_in_backslash)
{
    sm_config_t *cfg = NULL;
    sm_errbuf_t eb;
    size_t n;
    const char *const *l;

    cr_assert_eq(load(&cfg,
                      MINIMAL "listeners=PLAINTEXT://127.0.0.1:1,\\\n"
                              "          PLAINTEXT://127.0.0.1:2\n"
                              "note=a\\\\\n"
                              "num.partitions=4\n",
                      &eb),
                 SM_OK, "%s", eb.msg);
    l = sm_config_get_list(cfg, "listeners", &n);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(l[1], "PLAINTEXT://127.0.0.1:2");
    /* An even number of backslashes is an escaped backslash, not a continuation. */
    cr_assert_str_eq(sm_config_get_str(cfg, "note"), "a\\");
    cr_assert_eq(sm_config_get_int(cfg, "num.partitions"), 4);
    sm_config_free(cfg);
}

Test(config, resolves_escapes_in_keys_and_values)
{
    sm_config_t *cfg = NULL;
    sm_errbuf_t eb;

    cr_assert_eq(load(&cfg, MINIMAL "n\\ote=a\\tb\\=c\\:d\\\\e\\u00e9\\x\n", &eb), SM_OK, "%s",
                 eb.msg);
    cr_assert_str_eq(sm_config_get_str(cfg, "note"), "a\tb=c:d\\e\xc3\xa9x");
    sm_config_free(cfg);
}

Test(config, handles_crlf_continuation_and_backslash_at_end_of_file)
{
    sm_config_t *cfg = NULL;
    sm_errbuf_t eb;

    cr_assert_eq(load(&cfg, MINIMAL "note=a\\\r\n   b\r\nnum.partitions=2\\", &eb), SM_OK, "%s",
                 eb.msg);
    cr_assert_str_eq(sm_config_get_str(cfg, "note"), "ab");
    cr_assert_eq(sm_config_get_int(cfg, "num.partitions"), 2);
    sm_config_free(cfg);
}

Test(config, treats_key_without_value_as_empty)
{
    expect_error("broker.id\n", "server.properties:1: bad value for broker.id: '' is not an "
                                "integer");
}

Test(config, accepts_empty_text)
{
    sm_config_t *cfg = NULL;
    sm_errbuf_t eb;

    cr_assert_eq(sm_config_new(test_schema, TEST_N, &cfg), SM_OK);
    cr_assert_eq(sm_config_load_string(cfg, "empty", "", 0, &eb), SM_OK);
    cr_assert_eq(sm_config_validate(cfg, &eb), SM_ERR_CONFIG);
    cr_assert_str_eq(eb.msg, "missing required key broker.id");
    sm_config_free(cfg);
}

Test(config, rejects_nul_bytes)
{
    sm_config_t *cfg = NULL;
    sm_errbuf_t eb;

    cr_assert_eq(sm_config_new(test_schema, TEST_N, &cfg), SM_OK);
    cr_assert_eq(sm_config_load_string(cfg, "f", "a=b\0c\n", 6, &eb), SM_ERR_CONFIG);
    cr_assert_str_eq(eb.msg, "f: contains a NUL byte");
    sm_config_free(cfg);
}

Test(config, keeps_escaped_separator_in_key)
{
    expect_error(MINIMAL "a\\=b=c\n", "server.properties:4: unknown key 'a=b'");
    expect_error(MINIMAL "my\\ key value\n", "server.properties:4: unknown key 'my key'");
}

Test(config, rejects_malformed_unicode_escape)
{
    expect_error(MINIMAL "note=\\u12\n", "server.properties:4: malformed \\uXXXX escape");
}

Test(config, reports_unknown_key_with_file_line_and_suggestion)
{
    expect_error("broker.id=1\n\n# c\nlog.retension.ms=5\n",
                 "server.properties:4: unknown key 'log.retension.ms' (did you mean "
                 "'log.retention.ms'?)");
    expect_error("broker.id=1\nfoo=bar\n", "server.properties:2: unknown key 'foo'");
}

Test(config, reports_line_where_continued_line_starts)
{
    expect_error("broker.id=1\nbad.key=a,\\\n  b\nx=1\n", "server.properties:2: unknown key "
                                                          "'bad.key'");
    expect_error("note=a\\\n b\\\n c\nbroker.id=z\n",
                 "server.properties:4: bad value for broker.id: 'z' is not an integer");
}

Test(config, rejects_bad_integers)
{
    expect_error("broker.id=abc\n", "server.properties:1: bad value for broker.id: 'abc' is not "
                                    "an integer");
    expect_error("broker.id=12x\n", "server.properties:1: bad value for broker.id: '12x' is not "
                                    "an integer");
    expect_error("broker.id=\n", "server.properties:1: bad value for broker.id: '' is not an "
                                 "integer");
    expect_error("broker.id=1 2\n", "server.properties:1: bad value for broker.id: '1 2' is not "
                                    "an integer");
    expect_error("broker.id=-1\n", "server.properties:1: bad value for broker.id: -1 is less "
                                   "than the minimum 0");
    expect_error(MINIMAL "log.segment.bytes=13\n",
                 "server.properties:4: bad value for log.segment.bytes: 13 is less than the "
                 "minimum 14");
}

Test(config, rejects_overflow)
{
    expect_error("broker.id=2147483648\n", "server.properties:1: bad value for broker.id: "
                                           "2147483648 is greater than the maximum 2147483647");
    expect_error(MINIMAL "num.partitions=-2147483649\n",
                 "server.properties:4: bad value for num.partitions: -2147483649 is less than "
                 "the minimum -2147483648");
    expect_error(MINIMAL "log.retention.bytes=9223372036854775808\n",
                 "server.properties:4: bad value for log.retention.bytes: "
                 "'9223372036854775808' is out of range");
}

Test(config, accepts_int64_limits)
{
    sm_config_t *cfg = NULL;
    sm_errbuf_t eb;

    cr_assert_eq(load(&cfg, MINIMAL "log.retention.bytes=-9223372036854775808\n", &eb), SM_OK, "%s",
                 eb.msg);
    cr_assert_eq(sm_config_get_i64(cfg, "log.retention.bytes"), INT64_MIN);
    sm_config_free(cfg);
    cr_assert_eq(load(&cfg, MINIMAL "log.retention.bytes=+9223372036854775807\n", &eb), SM_OK, "%s",
                 eb.msg);
    cr_assert_eq(sm_config_get_i64(cfg, "log.retention.bytes"), INT64_MAX);
    sm_config_free(cfg);
}

Test(config, rejects_bad_bool_and_enum)
{
    expect_error(MINIMAL "auto.create.topics.enable=yes\n",
                 "server.properties:4: bad value for auto.create.topics.enable: 'yes' is not "
                 "true or false");
    expect_error(MINIMAL "log.level=verbose\n",
                 "server.properties:4: bad value for log.level: 'verbose' is not one of debug, "
                 "info, warn, error");
}

Test(config, parses_bool_and_enum_in_any_case)
{
    sm_config_t *cfg = NULL;
    sm_errbuf_t eb;

    cr_assert_eq(load(&cfg, MINIMAL "auto.create.topics.enable=FALSE\nlog.level=WARN\n", &eb),
                 SM_OK, "%s", eb.msg);
    cr_assert_not(sm_config_get_bool(cfg, "auto.create.topics.enable"));
    cr_assert_eq(sm_config_get_enum(cfg, "log.level"), 2);
    cr_assert_str_eq(sm_config_get_str(cfg, "log.level"), "warn");
    sm_config_free(cfg);
}

Test(config, reports_missing_required_keys)
{
    expect_error("broker.id=1\nlog.dirs=/a\n", "missing required key zookeeper.connect");
    expect_error("zookeeper.connect=h:1\nlog.dirs=/a\n", "missing required key broker.id");
    expect_error(MINIMAL "zookeeper.connect=\n",
                 "server.properties:4: bad value for zookeeper.connect: must not be empty");
}

Test(config, last_duplicate_wins)
{
    sm_config_t *cfg = NULL;
    sm_errbuf_t eb;

    cr_assert_eq(load(&cfg, "broker.id=oops\n" MINIMAL "broker.id=9\n", &eb), SM_OK, "%s", eb.msg);
    cr_assert_eq(sm_config_get_int(cfg, "broker.id"), 9);
    sm_config_free(cfg);
}

Test(config, parses_lists)
{
    sm_config_t *cfg = NULL;
    sm_errbuf_t eb;
    size_t n;
    const char *const *l;

    cr_assert_eq(load(&cfg, "broker.id=1\nzookeeper.connect=h:1\nlog.dirs= /a , /b,/c \n", &eb),
                 SM_OK, "%s", eb.msg);
    l = sm_config_get_list(cfg, "log.dirs", &n);
    cr_assert_eq(n, 3);
    cr_assert_str_eq(l[0], "/a");
    cr_assert_str_eq(l[1], "/b");
    cr_assert_str_eq(l[2], "/c");
    sm_config_free(cfg);
    expect_error("broker.id=1\nzookeeper.connect=h:1\nlog.dirs=/a,,/b\n",
                 "server.properties:3: bad value for log.dirs: '/a,,/b' has an empty item");
    expect_error("broker.id=1\nzookeeper.connect=h:1\nlog.dirs=\n",
                 "server.properties:3: bad value for log.dirs: must not be empty");
}

Test(config, alias_fills_unset_target_only)
{
    sm_config_t *cfg = NULL;
    sm_errbuf_t eb;

    cr_assert_eq(load(&cfg, "broker.id=1\nzookeeper.connect=h:1\nlog.dir=/old\n", &eb), SM_OK, "%s",
                 eb.msg);
    cr_assert_str_eq(sm_config_get_str(cfg, "log.dirs"), "/old");
    cr_assert(sm_config_is_set(cfg, "log.dirs"));
    sm_config_free(cfg);
    cr_assert_eq(
        load(&cfg, "broker.id=1\nzookeeper.connect=h:1\nlog.dir=/old\nlog.dirs=/new\n", &eb), SM_OK,
        "%s", eb.msg);
    cr_assert_str_eq(sm_config_get_str(cfg, "log.dirs"), "/new");
    sm_config_free(cfg);
    expect_error("broker.id=1\nzookeeper.connect=h:1\nlog.dir=/a,\n",
                 "server.properties:3: bad value for log.dir: '/a,' has an empty item");
}

Test(config, validates_listeners_and_zookeeper_connect)
{
    expect_error(MINIMAL "listeners=127.0.0.1:9092\n",
                 "server.properties:4: bad value for listeners: '127.0.0.1:9092' is not "
                 "PLAINTEXT://host:port");
    expect_error(MINIMAL "listeners=SSL://h:1\n",
                 "server.properties:4: bad value for listeners: 'SSL://h:1': protocol 'SSL' is "
                 "not supported (only PLAINTEXT)");
    expect_error(MINIMAL "listeners=PLAINTEXT://h:65536\n",
                 "server.properties:4: bad value for listeners: 'PLAINTEXT://h:65536' has a bad "
                 "port: 65536 is greater than the maximum 65535");
    expect_error(MINIMAL "listeners=PLAINTEXT://h\n",
                 "server.properties:4: bad value for listeners: 'PLAINTEXT://h' is not "
                 "PLAINTEXT://host:port");
    expect_error("broker.id=1\nlog.dirs=/a\nzookeeper.connect=h:1,\n",
                 "server.properties:3: bad value for zookeeper.connect: 'h:1,' is not "
                 "host:port[,host:port]...[/chroot]");
    expect_error("broker.id=1\nlog.dirs=/a\nzookeeper.connect=h:1/a/\n",
                 "server.properties:3: bad value for zookeeper.connect: 'h:1/a/' has a bad "
                 "chroot path");
}

Test(config, applies_overrides_after_file)
{
    sm_config_t *cfg = NULL;
    sm_errbuf_t eb;

    cr_assert_eq(sm_config_new(test_schema, TEST_N, &cfg), SM_OK);
    cr_assert_eq(sm_config_load_string(cfg, "f", MINIMAL, strlen(MINIMAL), &eb), SM_OK);
    cr_assert_eq(sm_config_override(cfg, "broker.id=5", &eb), SM_OK);
    cr_assert_eq(sm_config_override(cfg, "note=a=b", &eb), SM_OK);
    cr_assert_eq(sm_config_validate(cfg, &eb), SM_OK, "%s", eb.msg);
    cr_assert_eq(sm_config_get_int(cfg, "broker.id"), 5);
    cr_assert_str_eq(sm_config_get_str(cfg, "note"), "a=b");
    sm_config_free(cfg);
}

Test(config, rejects_malformed_and_unknown_overrides)
{
    sm_config_t *cfg = NULL;
    sm_errbuf_t eb;

    cr_assert_eq(sm_config_new(test_schema, TEST_N, &cfg), SM_OK);
    cr_assert_eq(sm_config_override(cfg, "foo", &eb), SM_ERR_CONFIG);
    cr_assert_str_eq(eb.msg, "--override foo: expected key=value");
    cr_assert_eq(sm_config_override(cfg, "=1", &eb), SM_ERR_CONFIG);
    cr_assert_str_eq(eb.msg, "--override =1: expected key=value");
    cr_assert_eq(sm_config_override(cfg, "foo.bar=1", &eb), SM_ERR_CONFIG);
    cr_assert_str_eq(eb.msg, "--override: unknown key 'foo.bar'");
    cr_assert_eq(sm_config_override(cfg, "broker.id=x", &eb), SM_OK);
    cr_assert_eq(sm_config_validate(cfg, &eb), SM_ERR_CONFIG);
    cr_assert_str_eq(eb.msg, "--override: bad value for broker.id: 'x' is not an integer");
    sm_config_free(cfg);
}

Test(config, loads_file_from_disk_and_reports_missing_file)
{
    char path[] = "/tmp/samsa-test-config-XXXXXX";
    int fd = mkstemp(path);
    sm_config_t *cfg = NULL;
    sm_errbuf_t eb;
    char expect[300];

    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, MINIMAL "num.partitions=x\n", strlen(MINIMAL) + 17),
                 (ssize_t)(strlen(MINIMAL) + 17));
    close(fd);
    cr_assert_eq(sm_config_new(test_schema, TEST_N, &cfg), SM_OK);
    cr_assert_eq(sm_config_load_file(cfg, path, &eb), SM_OK, "%s", eb.msg);
    cr_assert_eq(sm_config_validate(cfg, &eb), SM_ERR_CONFIG);
    snprintf(expect, sizeof(expect), "%s:4: bad value for num.partitions: 'x' is not an integer",
             path);
    cr_assert_str_eq(eb.msg, expect);
    unlink(path);
    cr_assert_eq(sm_config_load_file(cfg, path, &eb), SM_ERR_IO);
    snprintf(expect, sizeof(expect), "cannot read %s: No such file or directory", path);
    cr_assert_str_eq(eb.msg, expect);
    sm_config_free(cfg);
}

Test(config, dumps_sorted_effective_values)
{
    sm_config_t *cfg = NULL;
    sm_errbuf_t eb;
    char *d;

    cr_assert_eq(load(&cfg, MINIMAL, &eb), SM_OK, "%s", eb.msg);
    d = sm_config_dump(cfg);
    cr_assert_not_null(d);
    cr_assert_str_eq(d, "auto.create.topics.enable=true\n"
                        "broker.id=1\n"
                        "listeners=PLAINTEXT://127.0.0.1:9092\n"
                        "log.dirs=/tmp/a\n"
                        "log.level=info\n"
                        "log.retention.bytes=-1\n"
                        "log.segment.bytes=1073741824\n"
                        "num.partitions=1\n"
                        "zookeeper.connect=127.0.0.1:2181\n");
    free(d);
    sm_config_free(cfg);
}

Test(config, rejects_broken_schema)
{
    static const sm_config_key_t dup[] = {
        {.name = "a", .type = SM_CONFIG_INT32},
        {.name = "a", .type = SM_CONFIG_INT32},
    };
    static const sm_config_key_t alias[] = {
        {.name = "a", .type = SM_CONFIG_INT32, .alias_of = "b"},
    };
    static const sm_config_key_t en[] = {
        {.name = "a", .type = SM_CONFIG_ENUM},
    };
    sm_config_t *cfg = NULL;

    cr_assert_eq(sm_config_new(dup, 2, &cfg), SM_ERR_INVALID);
    cr_assert_eq(sm_config_new(alias, 1, &cfg), SM_ERR_INVALID);
    cr_assert_eq(sm_config_new(en, 1, &cfg), SM_ERR_INVALID);
    cr_assert_null(cfg);
}

Test(config, getter_on_unknown_key_aborts, .signal = SIGABRT)
{
    sm_config_t *cfg = NULL;
    sm_errbuf_t eb;

    cr_assert_eq(load(&cfg, MINIMAL, &eb), SM_OK);
    (void)sm_config_get_int(cfg, "no.such.key");
}

/* ---- value helpers ------------------------------------------------------------------------- */

Test(config_values, parses_host_and_port)
{
    char host[64], why[128];
    uint16_t port;

    cr_assert_eq(
        sm_config_parse_hostport("localhost:2181", host, sizeof(host), &port, why, sizeof(why)), 0);
    cr_assert_str_eq(host, "localhost");
    cr_assert_eq(port, 2181);
    cr_assert_eq(sm_config_parse_hostport("[::1]:0", host, sizeof(host), &port, why, sizeof(why)),
                 0);
    cr_assert_str_eq(host, "::1");
    cr_assert_eq(port, 0);
    cr_assert_eq(sm_config_parse_hostport(":9092", host, sizeof(host), &port, why, sizeof(why)), 0);
    cr_assert_str_eq(host, "");
    cr_assert_eq(sm_config_parse_hostport("a:b:1", host, sizeof(host), &port, why, sizeof(why)),
                 -1);
    cr_assert_eq(sm_config_parse_hostport("a b:1", host, sizeof(host), &port, why, sizeof(why)),
                 -1);
    cr_assert_str_eq(why, "'a b:1' has a bad host name");
    cr_assert_eq(sm_config_parse_hostport("h:", host, sizeof(host), &port, why, sizeof(why)), -1);
    cr_assert_eq(sm_config_parse_hostport("h:-1", host, sizeof(host), &port, why, sizeof(why)), -1);
}

Test(config_values, zookeeper_connect_accepts_ensembles_and_chroot)
{
    char why[128];

    cr_assert_eq(sm_config_check_zk_connect("a:1,b:2,c:3/samsa/x", why, sizeof(why)), 0);
    cr_assert_eq(sm_config_check_zk_connect("a:1", why, sizeof(why)), 0);
    cr_assert_eq(sm_config_check_zk_connect("a", why, sizeof(why)), -1);
    cr_assert_eq(sm_config_check_zk_connect(":1", why, sizeof(why)), -1);
    cr_assert_eq(sm_config_check_zk_connect("a:1,,b:2", why, sizeof(why)), -1);
    cr_assert_eq(sm_config_check_zk_connect("a:1/", why, sizeof(why)), -1);
    cr_assert_eq(sm_config_check_zk_connect("/x", why, sizeof(why)), -1);
}

/* ---- command line -------------------------------------------------------------------------- */

Test(config_args, parses_config_and_overrides)
{
    char *argv[] = {"samsa-broker", "-c",          "s.properties",
                    "--override",   "broker.id=3", "--override=num.partitions=2"};
    sm_config_args_t a;
    sm_errbuf_t eb;

    cr_assert_eq(sm_config_args_parse(&a, 6, argv, &eb), SM_OK, "%s", eb.msg);
    cr_assert_str_eq(a.config_path, "s.properties");
    cr_assert_eq(a.n_overrides, 2);
    cr_assert_str_eq(a.overrides[0], "broker.id=3");
    cr_assert_str_eq(a.overrides[1], "num.partitions=2");
    cr_assert_not(a.help);
    sm_config_args_deinit(&a);
}

Test(config_args, accepts_positional_file_and_help_without_file)
{
    char *argv1[] = {"samsa-broker", "--config=x.properties"};
    char *argv2[] = {"samsa-broker", "server.properties"};
    char *argv3[] = {"samsa-broker", "--help"};
    sm_config_args_t a;
    sm_errbuf_t eb;

    cr_assert_eq(sm_config_args_parse(&a, 2, argv1, &eb), SM_OK);
    cr_assert_str_eq(a.config_path, "x.properties");
    sm_config_args_deinit(&a);
    cr_assert_eq(sm_config_args_parse(&a, 2, argv2, &eb), SM_OK);
    cr_assert_str_eq(a.config_path, "server.properties");
    sm_config_args_deinit(&a);
    cr_assert_eq(sm_config_args_parse(&a, 2, argv3, &eb), SM_OK);
    cr_assert(a.help);
    sm_config_args_deinit(&a);
}

Test(config_args, rejects_bad_command_lines)
{
    char *unknown[] = {"p", "-c", "f", "--frobnicate"};
    char *nofile[] = {"p", "--override", "a=b"};
    char *noval[] = {"p", "-c"};
    char *noov[] = {"p", "-c", "f", "--override"};
    char *extra[] = {"p", "-c", "f", "g"};
    sm_config_args_t a;
    sm_errbuf_t eb;

    cr_assert_eq(sm_config_args_parse(&a, 4, unknown, &eb), SM_ERR_INVALID);
    cr_assert_str_eq(eb.msg, "unknown option '--frobnicate' (see --help)");
    sm_config_args_deinit(&a);
    cr_assert_eq(sm_config_args_parse(&a, 3, nofile, &eb), SM_ERR_INVALID);
    cr_assert_str_eq(eb.msg, "missing -c FILE (see --help)");
    sm_config_args_deinit(&a);
    cr_assert_eq(sm_config_args_parse(&a, 2, noval, &eb), SM_ERR_INVALID);
    cr_assert_str_eq(eb.msg, "-c needs a FILE");
    sm_config_args_deinit(&a);
    cr_assert_eq(sm_config_args_parse(&a, 4, noov, &eb), SM_ERR_INVALID);
    cr_assert_str_eq(eb.msg, "--override needs key=value");
    sm_config_args_deinit(&a);
    cr_assert_eq(sm_config_args_parse(&a, 4, extra, &eb), SM_ERR_INVALID);
    cr_assert_str_eq(eb.msg, "unexpected argument 'g'");
    sm_config_args_deinit(&a);
}
