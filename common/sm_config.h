/*
 * sm_config: schema-driven configuration in Kafka's `.properties` format.
 *
 * A program describes its keys once, in a static table of sm_config_key_t (name, type, default
 * or "required", bounds, one-line doc). An sm_config_t built on that table is filled in three
 * steps, always in this order: sm_config_load_file() reads a Java Properties file,
 * sm_config_override() applies `--override key=value` strings (the last value of a key wins,
 * as in Java), then sm_config_validate() applies defaults, parses every value into its type,
 * checks bounds and custom rules, and reports the first problem as ONE line naming the key and,
 * for values that came from a file, the file and line:
 *
 *   server.properties:12: unknown key 'log.retension.ms' (did you mean 'log.retention.ms'?)
 *   server.properties:3: bad value for broker.id: 'abc' is not an integer
 *   missing required key zookeeper.connect
 *   --override foo: expected key=value
 *
 * After a successful validation the typed getters (sm_config_get_*) read the values. Asking for
 * a key that is not in the schema, or with the wrong getter, is a programming error: the getter
 * logs it and aborts, so a typo in a key name fails the first test that reaches it.
 *
 * sm_config_args_parse() is the command line shared by samsa-broker and samsa-controller:
 * `-c FILE [--override key=value]... [--help] [--version]`.
 */
#ifndef SM_CONFIG_H
#define SM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sm_err.h"

#define SM_VERSION "0.1.0"

typedef enum sm_config_type {
    SM_CONFIG_STRING = 0, /* any text (leading and trailing blanks are trimmed) */
    SM_CONFIG_INT32,      /* decimal, optional sign, no suffix */
    SM_CONFIG_INT64,      /* decimal, optional sign, no suffix */
    SM_CONFIG_BOOL,       /* true or false, any case */
    SM_CONFIG_LIST,       /* comma separated; blanks around items trimmed; no empty items */
    SM_CONFIG_ENUM,       /* one of key->choices (any case; the schema's spelling is kept) */
} sm_config_type_t;

/* sm_config_key_t.flags */
#define SM_CONFIG_REQUIRED 0x1u /* validation fails when the key has no value */

/* A custom rule for a key's value, run after the type parse (for a list: once per item).
 * Returns 0 when value is acceptable; otherwise writes the reason (e.g. "'x' is not
 * PLAINTEXT://host:port") into why and returns -1. */
typedef int (*sm_config_check_fn)(const char *value, char *why, size_t why_len);

typedef struct sm_config_key {
    const char *name;
    sm_config_type_t type;
    unsigned flags; /* SM_CONFIG_REQUIRED */
    /* Default, as text parsed like a file value; NULL means none (the key is then absent unless
     * set, or an error if SM_CONFIG_REQUIRED). */
    const char *def;
    /* Bounds for INT32/INT64 (inclusive); both 0 means only the type's own range. */
    int64_t min, max;
    const char *const *choices; /* ENUM: NULL-terminated allowed values */
    sm_config_check_fn check;   /* optional extra rule */
    /* Non-NULL makes this key an alias: when the named target key is not set explicitly, it
     * takes this key's value (e.g. Kafka's log.dir for log.dirs). An alias has no default and
     * the same type as its target; its getter is the target's. */
    const char *alias_of;
    const char *doc; /* one line for --help */
} sm_config_key_t;

typedef struct sm_config sm_config_t;

/* Creates an empty configuration for schema (borrowed: it must outlive the config; normally a
 * static table). Returns SM_ERR_NOMEM, or SM_ERR_INVALID when the schema itself is broken (a
 * duplicate name, an alias to an unknown key, an enum without choices). */
sm_err_t sm_config_new(const sm_config_key_t *schema, size_t n_keys, sm_config_t **out);

/* Frees cfg; accepts NULL. */
void sm_config_free(sm_config_t *cfg);

/* Reads a Java Properties file: `key=value`, `key: value` or `key value`; `#` and `!`
 * comment lines; blank lines; leading blanks ignored; a line ending in an odd number of
 * backslashes continues on the next; escapes \t \n \r \f \uXXXX and \<any> for <any>. Errors
 * (one line in eb) are prefixed by "PATH:LINE: ": SM_ERR_IO when the file cannot be read,
 * SM_ERR_CONFIG for an unknown key or a malformed \u escape. Values are only stored here; they
 * are parsed by sm_config_validate(), whose messages point back to PATH:LINE. */
sm_err_t sm_config_load_file(sm_config_t *cfg, const char *path, sm_errbuf_t *eb);

/* Same as sm_config_load_file() on text held in memory; name is used in messages. */
sm_err_t sm_config_load_string(sm_config_t *cfg, const char *name, const char *text, size_t len,
                               sm_errbuf_t *eb);

/* Applies one `key=value` (as given to --override). SM_ERR_CONFIG with "--override X: expected
 * key=value" when there is no '=' or the key is empty, "--override: unknown key 'k'" for a key
 * outside the schema. */
sm_err_t sm_config_override(sm_config_t *cfg, const char *kv, sm_errbuf_t *eb);

/* Sets key to value from code (value is copied). SM_ERR_CONFIG for an unknown key. */
sm_err_t sm_config_set(sm_config_t *cfg, const char *key, const char *value, sm_errbuf_t *eb);

/* Applies defaults and aliases, parses and checks every value. SM_ERR_CONFIG with one line
 * ("missing required key K", "FILE:LINE: bad value for K: why"), SM_ERR_NOMEM. May be called
 * again after more sets. */
sm_err_t sm_config_validate(sm_config_t *cfg, sm_errbuf_t *eb);

/* Cross-key checks a program runs after sm_config_validate; writes one line into eb. */
typedef sm_err_t (*sm_config_post_fn)(const sm_config_t *cfg, sm_errbuf_t *eb);

/* The whole load of a program's configuration: a config for keys[0..n_keys), the file at path
 * (NULL: none), each "key=value" of overrides, validation, then post (NULL: none). On success
 * *out is the caller's; on failure *out is NULL and eb holds one line naming the problem. */
sm_err_t sm_config_load_all(const sm_config_key_t *keys, size_t n_keys, const char *path,
                            const char *const *overrides, size_t n_overrides,
                            sm_config_post_fn post, sm_config_t **out, sm_errbuf_t *eb);

/* ---- getters (only after a successful sm_config_validate) ---------------------------------- */

/* True when key has a value (set, inherited through an alias, or defaulted). */
bool sm_config_has(const sm_config_t *cfg, const char *key);
/* True when key was set by the file, an override or sm_config_set (not just defaulted). */
bool sm_config_is_set(const sm_config_t *cfg, const char *key);

/* Any type: the trimmed text of the value; NULL when absent. Borrowed from cfg. */
const char *sm_config_get_str(const sm_config_t *cfg, const char *key);
/* INT32 only; 0 when absent. */
int32_t sm_config_get_int(const sm_config_t *cfg, const char *key);
/* INT32 or INT64; 0 when absent. */
int64_t sm_config_get_i64(const sm_config_t *cfg, const char *key);
/* BOOL only; false when absent. */
bool sm_config_get_bool(const sm_config_t *cfg, const char *key);
/* LIST only: the items (borrowed from cfg), their count in *n; n = 0 when absent. */
const char *const *sm_config_get_list(const sm_config_t *cfg, const char *key, size_t *n);
/* ENUM only: index of the value in the key's choices; -1 when absent. */
int sm_config_get_enum(const sm_config_t *cfg, const char *key);

/* Writes where key's value came from, as a prefix for messages: "server.properties:12: ",
 * "--override: ", or "" (default or set from code). Returns buf. */
const char *sm_config_origin(const sm_config_t *cfg, const char *key, char *buf, size_t len);

/* Returns "key=value\n" lines for every key with a value, sorted by key (aliases left out), in a
 * malloc'd string the caller frees; NULL when out of memory. */
char *sm_config_dump(const sm_config_t *cfg);

/* Prints one line per key of schema for --help: name, type, default or "required", doc. */
void sm_config_print_keys(const sm_config_key_t *schema, size_t n_keys, FILE *f);

/* ---- value helpers shared by schemas and the admin tool ------------------------------------ */

/* Parses a whole decimal integer (optional sign, no blanks, no suffix) within [min, max].
 * Returns 0, or -1 with the reason ("'x' is not an integer", "'9' is greater than the maximum
 * 8") in why. */
int sm_config_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out, char *why,
                        size_t why_len);

/* Splits "host:port" or "[v6addr]:port" (host may be empty: any address). Port 0..65535.
 * host receives the host without brackets. Returns 0 or -1 with the reason in why. */
int sm_config_parse_hostport(const char *s, char *host, size_t host_len, uint16_t *port, char *why,
                             size_t why_len);

/* sm_config_check_fn for "host:port". */
int sm_config_check_hostport(const char *value, char *why, size_t why_len);
/* sm_config_check_fn for a Kafka listener "PLAINTEXT://host:port" (the only protocol). */
int sm_config_check_listener(const char *value, char *why, size_t why_len);
/* sm_config_check_fn for ZooKeeper's "host:port[,host:port]...[/chroot]". */
int sm_config_check_zk_connect(const char *value, char *why, size_t why_len);

/* ---- the command line of samsa-broker and samsa-controller --------------------------------- */

typedef struct sm_config_args {
    const char *config_path; /* -c FILE, --config FILE or one positional FILE */
    const char **overrides;  /* --override key=value, in order (point into argv) */
    size_t n_overrides;
    bool help;    /* --help / -h */
    bool version; /* --version / -V */
} sm_config_args_t;

/* Parses argv[1..argc-1] into a (which the caller deinits even on error). Returns
 * SM_ERR_INVALID with one line in eb: "unknown option '--x' (see --help)", "-c needs a FILE",
 * "missing -c FILE (see --help)" (not reported with --help or --version), SM_ERR_NOMEM. */
sm_err_t sm_config_args_parse(sm_config_args_t *a, int argc, char *const *argv, sm_errbuf_t *eb);
void sm_config_args_deinit(sm_config_args_t *a);

#endif
