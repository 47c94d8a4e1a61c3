/*
 * adm_zk: samsa-admin's reads from ZooKeeper. Opening the blocking session (sm_zk_sync) with
 * the tool's --timeout-ms, reading a znode and decoding its protobuf payload, knowing which
 * message each path of DESIGN.md section 2 holds, and the `zk get PATH` command that prints
 * any payload as JSON.
 */
#ifndef ADM_ZK_H
#define ADM_ZK_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

#include "controller/admin/adm_args.h"
#include "controller/admin/adm_json.h"
#include "sm_err.h"
#include "sm_zk.h"

/* Session timeout the tool asks for; it only reads, so a short session is fine. */
#define ADM_ZK_SESSION_MS 10000

/* Connects to a->zookeeper within a->timeout_ms. Errors (one line in eb): SM_ERR_TIMEOUT
 * ("ZooKeeper 127.0.0.1:2181 unreachable within 5000 ms"), SM_ERR_ZK, SM_ERR_CLOSED,
 * SM_ERR_INVALID, SM_ERR_NOMEM. */
sm_err_t adm_zk_open(const adm_args_t *a, sm_zk_sync_t **out, sm_errbuf_t *eb);

/* Reads path and decodes it as desc. On SM_OK *out owns the message (free with
 * protobuf_c_message_free_unpacked(*out, NULL)) and *stat (if not NULL) holds the node's stat.
 * Errors: SM_ERR_NOT_FOUND (no node; eb names the path), SM_ERR_CORRUPT (the payload is not a
 * desc), and those of sm_zk_sync_get. A node without data decodes as an empty message. */
sm_err_t adm_zk_read(sm_zk_sync_t *zs, const char *path, const ProtobufCMessageDescriptor *desc,
                     ProtobufCMessage **out, sm_zk_stat_t *stat, sm_errbuf_t *eb);

/* The message a znode of DESIGN.md section 2 holds, by path (relative to the chroot), or NULL
 * for a path that holds none of Samsa's payloads. */
const ProtobufCMessageDescriptor *adm_zk_payload_type(const char *path);

/* Writes data[0..len) of the node at path as JSON: the decoded message when the path is known
 * and the bytes decode, else the text as a JSON string when it is printable UTF-8, else
 * {"hex": "..."}; null when there is no data. */
void adm_zk_payload_json(adm_json_t *j, const char *path, const void *data, size_t len);

/* `zk get PATH`: prints the node's payload as JSON. Returns the exit code. */
int adm_zk_get(const adm_args_t *a);

#endif
