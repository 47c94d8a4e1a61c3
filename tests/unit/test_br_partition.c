/*
 * Unit tests for br_partition: the per-partition replica state set (order, add/remove, apply)
 * and the partition.metadata file (Kafka's KIP-516 text: write, read back, reject malformed).
 */
#include "broker/br_partition.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "sm_log.h"
#include "storage_fixture.h"

static char dir[256];
static br_partition_set_t *set;

static void setup(void)
{
    sm_log_init("test", SM_LOG_ERROR);
    fx_mkdtemp(dir, sizeof(dir), "br_partition");
    cr_assert_eq(br_partition_set_new(&set), SM_OK);
}

static void teardown(void)
{
    br_partition_set_free(set);
    fx_rmtree(dir);
}

TestSuite(br_partition, .init = setup, .fini = teardown);

static void write_text(const char *text)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/" BR_PARTITION_METADATA, dir);
    f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

Test(br_partition, set_keeps_partitions_sorted_by_topic_then_index)
{
    br_partition_t *p, *q;

    cr_assert_eq(br_partition_add(set, "b", 1, &p), SM_OK);
    cr_assert_eq(br_partition_add(set, "a", 2, &p), SM_OK);
    cr_assert_eq(br_partition_add(set, "b", 0, &p), SM_OK);
    cr_assert_eq(br_partition_add(set, "a", 10, &q), SM_OK);
    cr_assert_eq(br_partition_add(set, "b", 0, &q), SM_OK);
    cr_assert_eq(p, q, "adding twice returns the same partition");
    cr_assert_eq(br_partition_count(set), 4);
    cr_assert_str_eq(br_partition_topic(br_partition_at(set, 0)), "a");
    cr_assert_eq(br_partition_index(br_partition_at(set, 0)), 2);
    cr_assert_eq(br_partition_index(br_partition_at(set, 1)), 10);
    cr_assert_eq(br_partition_index(br_partition_at(set, 2)), 0);
    cr_assert_null(br_partition_at(set, 4));
    br_partition_remove(set, "a", 10);
    br_partition_remove(set, "zz", 0);
    cr_assert_eq(br_partition_count(set), 3);
    cr_assert_null(br_partition_get(set, "a", 10));
    cr_assert_eq(br_partition_add(set, "", 0, &p), SM_ERR_INVALID);
    cr_assert_eq(br_partition_add(set, "x", -1, &p), SM_ERR_INVALID);
}

Test(br_partition, new_partition_has_no_role_and_no_epoch)
{
    br_partition_t *p;

    cr_assert_eq(br_partition_add(set, "t", 0, &p), SM_OK);
    cr_assert_eq(br_partition_role(p), BR_PARTITION_NONE);
    cr_assert_eq(br_partition_leader_epoch(p), BR_PARTITION_NO_EPOCH);
    cr_assert_eq(br_partition_leader(p), -1);
    cr_assert(sm_uuid_is_zero(br_partition_topic_id(p)));
}

Test(br_partition, apply_sets_role_from_the_leader)
{
    int32_t replicas[3] = {1, 2, 3}, isr[2] = {1, 2};
    br_partition_state_t st = {.leader = 2,
                               .leader_epoch = 4,
                               .partition_epoch = 9,
                               .isr = isr,
                               .n_isr = 2,
                               .replicas = replicas,
                               .n_replicas = 3};
    const int32_t *v;
    br_partition_t *p;
    size_t n;

    cr_assert_eq(br_partition_add(set, "t", 0, &p), SM_OK);
    cr_assert_eq(br_partition_apply(p, 2, &st), SM_OK);
    cr_assert_eq(br_partition_role(p), BR_PARTITION_LEADER);
    cr_assert_str_eq(br_partition_role_str(br_partition_role(p)), "leader");
    cr_assert_eq(br_partition_apply(p, 3, &st), SM_OK);
    cr_assert_eq(br_partition_role(p), BR_PARTITION_FOLLOWER);
    cr_assert_eq(br_partition_leader_epoch(p), 4);
    cr_assert_eq(br_partition_partition_epoch(p), 9);
    v = br_partition_replicas(p, &n);
    cr_assert_eq(n, 3);
    cr_assert_eq(v[2], 3);
    replicas[2] = 99; /* copied, not borrowed */
    cr_assert_eq(br_partition_replicas(p, &n)[2], 3);
    v = br_partition_isr(p, &n);
    cr_assert_eq(n, 2);
    br_partition_stop(p);
    cr_assert_eq(br_partition_role(p), BR_PARTITION_NONE);
    cr_assert_eq(br_partition_leader_epoch(p), 4, "the epoch survives a stop");
}

Test(br_partition, metadata_file_round_trips_in_kafka_format)
{
    sm_uuid_t id, back;
    sm_errbuf_t eb = {{0}};
    char path[512], text[128];
    FILE *f;
    size_t n;

    cr_assert_eq(sm_uuid_random(&id), SM_OK);
    cr_assert_eq(br_partition_metadata_write(br_fileops_posix(), dir, &id, &eb), SM_OK, "%s",
                 eb.msg);
    cr_assert_eq(br_partition_metadata_read(br_fileops_posix(), dir, &back, &eb), SM_OK, "%s",
                 eb.msg);
    cr_assert(sm_uuid_eq(&id, &back));
    snprintf(path, sizeof(path), "%s/" BR_PARTITION_METADATA, dir);
    f = fopen(path, "r");
    cr_assert_not_null(f);
    n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    fclose(f);
    cr_assert(strncmp(text, "version: 0\ntopic_id: ", 21) == 0, "%s", text);
    cr_assert_eq(n, 21 + SM_UUID_STR_LEN + 1);
}

Test(br_partition, metadata_read_reports_a_missing_file)
{
    sm_uuid_t id;
    sm_errbuf_t eb = {{0}};

    cr_assert_eq(br_partition_metadata_read(br_fileops_posix(), dir, &id, &eb), SM_ERR_NOT_FOUND);
}

Test(br_partition, metadata_read_accepts_blanks_and_crlf)
{
    sm_uuid_t id;
    sm_errbuf_t eb = {{0}};

    write_text("version:0\r\n  topic_id :  AAAAAAAAAAAAAAAAAAAAAQ \r\n");
    cr_assert_eq(br_partition_metadata_read(br_fileops_posix(), dir, &id, &eb), SM_OK, "%s",
                 eb.msg);
    cr_assert_eq(id.b[15], 1);
}

Test(br_partition, metadata_read_rejects_malformed_files)
{
    static const char *const bad[] = {
        "version: 1\ntopic_id: AAAAAAAAAAAAAAAAAAAAAQ\n",
        "version: 0\n",
        "topic_id: AAAAAAAAAAAAAAAAAAAAAQ\n",
        "version: 0\ntopic_id: not-a-uuid\n",
        "version 0\n",
    };
    sm_uuid_t id;
    sm_errbuf_t eb = {{0}};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        write_text(bad[i]);
        cr_assert_eq(br_partition_metadata_read(br_fileops_posix(), dir, &id, &eb), SM_ERR_CORRUPT,
                     "case %zu", i);
        cr_assert(strstr(eb.msg, BR_PARTITION_METADATA) != NULL, "%s", eb.msg);
    }
}
