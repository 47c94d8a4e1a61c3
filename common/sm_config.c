/*
 * sm_config: Java Properties reader, --override, typed validation and getters for a static key
 * schema; plus the `-c FILE --override k=v` command line of the broker and the controller.
 * See sm_config.h for the contract.
 *
 * A value travels in two steps. Loading (file, override, sm_config_set) only stores the text
 * and where it came from; sm_config_validate() resolves each key's effective text (own value,
 * else an alias's value, else the default), parses it into its type and runs the key's checks.
 * Parsing late is what makes "the last duplicate wins" hold even when an earlier duplicate was
 * malformed, while every message still points at the file and line that the value came from.
 */
#include "sm_config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sm_log.h"

#define SM_CONFIG_MAX_FILE (16u * 1024u * 1024u)

enum sm_config_origin {
    SM_CONFIG_FROM_NONE = 0,
    SM_CONFIG_FROM_FILE,
    SM_CONFIG_FROM_OVERRIDE,
    SM_CONFIG_FROM_API,
};

typedef struct sm_config_val {
    /* As stored by the loaders: */
    char *raw;  /* text after escapes; NULL when never set */
    char *file; /* FROM_FILE: the path as given */
    int line;   /* FROM_FILE: line where the logical line starts */
    enum sm_config_origin origin;
    /* As resolved by sm_config_validate(): */
    bool present;
    bool explicit_set;
    int src;    /* index of the key whose stored value this is; -1: the default */
    char *text; /* trimmed effective text (canonical spelling for enums) */
    int64_t num;
    bool flag;
    int choice;
    char **items;
    size_t n_items;
} sm_config_val_t;

struct sm_config {
    const sm_config_key_t *schema;
    size_t n;
    sm_config_val_t *vals;
    bool validated;
};

/* A growable byte string for logical lines and unescaped text. */
typedef struct sm_config_buf {
    char *p;
    size_t len, cap;
} sm_config_buf_t;

static int sm_config_buf_put(sm_config_buf_t *b, const char *s, size_t n)
{
    if (n > SIZE_MAX - 1 - b->len)
        return -1;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        char *p;

        while (cap < b->len + n + 1)
            cap *= 2;
        p = realloc(b->p, cap);
        if (p == NULL)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

static int sm_config_buf_putc(sm_config_buf_t *b, char c)
{
    return sm_config_buf_put(b, &c, 1);
}

/* ---- schema lookup ------------------------------------------------------------------------- */

static int sm_config_find(const sm_config_key_t *schema, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(schema[i].name, name) == 0)
            return (int)i;
    }
    return -1;
}

/* Edit distance, capped: names longer than 63 bytes are never suggested. */
static size_t sm_config_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t prev[64], cur[64];

    if (la >= 64 || lb >= 64)
        return SIZE_MAX;
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

            cur[j] = sub < del ? sub : del;
            if (ins < cur[j])
                cur[j] = ins;
        }
        memcpy(prev, cur, (lb + 1) * sizeof(prev[0]));
    }
    return prev[lb];
}

static sm_err_t sm_config_unknown(const sm_config_t *cfg, const char *where, const char *key,
                                  sm_errbuf_t *eb)
{
    const char *best = NULL;
    size_t best_d = 3;

    for (size_t i = 0; i < cfg->n; i++) {
        size_t d = sm_config_distance(key, cfg->schema[i].name);

        if (d < best_d) {
            best_d = d;
            best = cfg->schema[i].name;
        }
    }
    if (best != NULL)
        return sm_errbuf_set(eb, SM_ERR_CONFIG, "%sunknown key '%s' (did you mean '%s'?)", where,
                             key, best);
    return sm_errbuf_set(eb, SM_ERR_CONFIG, "%sunknown key '%s'", where, key);
}

/* ---- life cycle ---------------------------------------------------------------------------- */

static void sm_config_val_clear_parsed(sm_config_val_t *v)
{
    for (size_t i = 0; i < v->n_items; i++)
        free(v->items[i]);
    free(v->items);
    free(v->text);
    v->items = NULL;
    v->n_items = 0;
    v->text = NULL;
    v->present = false;
    v->explicit_set = false;
    v->src = -1;
    v->num = 0;
    v->flag = false;
    v->choice = -1;
}

sm_err_t sm_config_new(const sm_config_key_t *schema, size_t n_keys, sm_config_t **out)
{
    sm_config_t *cfg = NULL;
    sm_err_t err = SM_OK;

    *out = NULL;
    for (size_t i = 0; i < n_keys; i++) {
        const sm_config_key_t *k = &schema[i];
        int t = k->alias_of ? sm_config_find(schema, n_keys, k->alias_of) : 0;

        if (k->name == NULL || sm_config_find(schema, n_keys, k->name) != (int)i || t < 0 ||
            (k->alias_of && (schema[t].type != k->type || k->def != NULL)) ||
            (k->type == SM_CONFIG_ENUM && (k->choices == NULL || k->choices[0] == NULL))) {
            sm_log_error("config schema: bad entry '%s'", k->name ? k->name : "(null)");
            err = SM_ERR_INVALID;
            goto out;
        }
    }
    cfg = calloc(1, sizeof(*cfg));
    if (cfg == NULL) {
        err = SM_ERR_NOMEM;
        goto out;
    }
    cfg->schema = schema;
    cfg->n = n_keys;
    cfg->vals = calloc(n_keys ? n_keys : 1, sizeof(cfg->vals[0]));
    if (cfg->vals == NULL) {
        err = SM_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < n_keys; i++) {
        cfg->vals[i].choice = -1;
        cfg->vals[i].src = -1;
    }
    *out = cfg;
    cfg = NULL;
out:
    sm_config_free(cfg);
    return err;
}

void sm_config_free(sm_config_t *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t i = 0; cfg->vals != NULL && i < cfg->n; i++) {
        sm_config_val_clear_parsed(&cfg->vals[i]);
        free(cfg->vals[i].raw);
        free(cfg->vals[i].file);
    }
    free(cfg->vals);
    free(cfg);
}

/* Stores value for key; where prefixes the unknown-key message. */
static sm_err_t sm_config_store(sm_config_t *cfg, const char *key, const char *value,
                                enum sm_config_origin origin, const char *file, int line,
                                const char *where, sm_errbuf_t *eb)
{
    int i = sm_config_find(cfg->schema, cfg->n, key);
    sm_config_val_t *v;
    char *raw, *f = NULL;

    if (i < 0)
        return sm_config_unknown(cfg, where, key, eb);
    raw = strdup(value);
    if (raw == NULL || (file != NULL && (f = strdup(file)) == NULL)) {
        free(raw);
        return sm_errbuf_set(eb, SM_ERR_NOMEM, "out of memory");
    }
    v = &cfg->vals[i];
    free(v->raw);
    free(v->file);
    v->raw = raw;
    v->file = f;
    v->line = line;
    v->origin = origin;
    cfg->validated = false;
    return SM_OK;
}

/* ---- Java Properties syntax ---------------------------------------------------------------- */

static bool sm_config_is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\f';
}

static bool sm_config_is_eol(char c)
{
    return c == '\n' || c == '\r';
}

/* Consumes one line ending ("\n", "\r" or "\r\n") at pos. */
static size_t sm_config_skip_eol(const char *t, size_t len, size_t pos)
{
    if (pos < len && t[pos] == '\r')
        pos++;
    else if (pos < len && t[pos] == '\n')
        return pos + 1;
    if (pos < len && t[pos] == '\n')
        pos++;
    return pos;
}

static int sm_config_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int sm_config_put_utf8(sm_config_buf_t *out, uint32_t cp)
{
    char u[4];
    size_t n;

    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return sm_config_buf_put(out, u, n);
}

/* Reads 4 hex digits at s[*i..]; -1 when malformed. */
static int32_t sm_config_hex4(const char *s, size_t n, size_t *i)
{
    int32_t v = 0;

    if (n - *i < 4)
        return -1;
    for (size_t k = 0; k < 4; k++) {
        int h = sm_config_hex(s[*i + k]);

        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    *i += 4;
    return v;
}

/* Java's loadConvert: appends s[0..n) with escapes resolved. Returns 0, -1 for a malformed
 * \uXXXX (or a lone surrogate), -2 when out of memory. */
static int sm_config_unescape(const char *s, size_t n, sm_config_buf_t *out)
{
    out->len = 0;
    if (sm_config_buf_put(out, "", 0) < 0)
        return -2;
    for (size_t i = 0; i < n;) {
        char c = s[i++];
        int32_t cp, lo;
        int r;

        if (c != '\\' || i >= n) {
            r = sm_config_buf_putc(out, c);
        } else {
            c = s[i++];
            switch (c) {
            case 't':
                r = sm_config_buf_putc(out, '\t');
                break;
            case 'n':
                r = sm_config_buf_putc(out, '\n');
                break;
            case 'r':
                r = sm_config_buf_putc(out, '\r');
                break;
            case 'f':
                r = sm_config_buf_putc(out, '\f');
                break;
            case 'u':
                cp = sm_config_hex4(s, n, &i);
                if (cp < 0 || (cp >= 0xDC00 && cp <= 0xDFFF))
                    return -1;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (n - i < 2 || s[i] != '\\' || s[i + 1] != 'u')
                        return -1;
                    i += 2;
                    lo = sm_config_hex4(s, n, &i);
                    if (lo < 0xDC00 || lo > 0xDFFF)
                        return -1;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                r = sm_config_put_utf8(out, (uint32_t)cp);
                break;
            default:
                r = sm_config_buf_putc(out, c);
                break;
            }
        }
        if (r < 0)
            return -2;
    }
    return 0;
}

/* Splits one logical line into key and value (Java's load0) and stores them. */
static sm_err_t sm_config_line(sm_config_t *cfg, const char *name, int line, const char *s,
                               size_t n, sm_config_buf_t *key, sm_config_buf_t *val,
                               sm_errbuf_t *eb)
{
    size_t key_len = 0, vstart = n;
    bool sep = false, bs = false;
    char where[200];
    int r;

    snprintf(where, sizeof(where), "%s:%d: ", name, line);
    while (key_len < n) {
        char c = s[key_len];

        if ((c == '=' || c == ':') && !bs) {
            vstart = key_len + 1;
            sep = true;
            break;
        }
        if (sm_config_is_blank(c) && !bs) {
            vstart = key_len + 1;
            break;
        }
        bs = c == '\\' ? !bs : false;
        key_len++;
    }
    while (vstart < n) {
        char c = s[vstart];

        if (!sm_config_is_blank(c)) {
            if (sep || (c != '=' && c != ':'))
                break;
            sep = true;
        }
        vstart++;
    }
    r = sm_config_unescape(s, key_len, key);
    if (r == 0)
        r = sm_config_unescape(s + vstart, n - vstart, val);
    if (r == -2)
        return sm_errbuf_set(eb, SM_ERR_NOMEM, "out of memory");
    if (r < 0)
        return sm_errbuf_set(eb, SM_ERR_CONFIG, "%smalformed \\uXXXX escape", where);
    return sm_config_store(cfg, key->p, val->p, SM_CONFIG_FROM_FILE, name, line, where, eb);
}

sm_err_t sm_config_load_string(sm_config_t *cfg, const char *name, const char *text, size_t len,
                               sm_errbuf_t *eb)
{
    sm_config_buf_t lbuf = {0}, kbuf = {0}, vbuf = {0};
    sm_err_t err = SM_OK;
    size_t pos = 0;
    int line = 1;

    if (memchr(text, '\0', len) != NULL) {
        err = sm_errbuf_set(eb, SM_ERR_CONFIG, "%s: contains a NUL byte", name);
        goto out;
    }
    while (pos < len) {
        int start = line;

        while (pos < len && sm_config_is_blank(text[pos]))
            pos++;
        if (pos >= len)
            break;
        if (sm_config_is_eol(text[pos]) || text[pos] == '#' || text[pos] == '!') {
            while (pos < len && !sm_config_is_eol(text[pos]))
                pos++;
            pos = sm_config_skip_eol(text, len, pos);
            line++;
            continue;
        }
        lbuf.len = 0;
        for (;;) {
            size_t s = pos, nbs = 0;
            bool cont;

            while (pos < len && !sm_config_is_eol(text[pos]))
                pos++;
            while (nbs < pos - s && text[pos - 1 - nbs] == '\\')
                nbs++;
            cont = nbs % 2 == 1;
            if (sm_config_buf_put(&lbuf, text + s, pos - s - (cont ? 1 : 0)) < 0) {
                err = sm_errbuf_set(eb, SM_ERR_NOMEM, "out of memory");
                goto out;
            }
            if (pos < len) {
                pos = sm_config_skip_eol(text, len, pos);
                line++;
            }
            if (!cont || pos >= len)
                break;
            while (pos < len && sm_config_is_blank(text[pos]))
                pos++;
        }
        err = sm_config_line(cfg, name, start, lbuf.p, lbuf.len, &kbuf, &vbuf, eb);
        if (err != SM_OK)
            goto out;
    }
out:
    free(lbuf.p);
    free(kbuf.p);
    free(vbuf.p);
    return err;
}

sm_err_t sm_config_load_file(sm_config_t *cfg, const char *path, sm_errbuf_t *eb)
{
    FILE *f = NULL;
    char *text = NULL;
    size_t len = 0, cap = 0;
    sm_err_t err = SM_OK;

    f = fopen(path, "rb");
    if (f == NULL) {
        int e = errno;

        err = sm_errbuf_set(eb, SM_ERR_IO, "cannot read %s: %s", path, strerror(e));
        goto out;
    }
    for (;;) {
        size_t got;

        if (len == cap) {
            char *p;

            if (cap >= SM_CONFIG_MAX_FILE) {
                err = sm_errbuf_set(eb, SM_ERR_CONFIG, "%s: larger than %u bytes", path,
                                    SM_CONFIG_MAX_FILE);
                goto out;
            }
            cap = cap ? cap * 2 : 4096;
            p = realloc(text, cap);
            if (p == NULL) {
                err = sm_errbuf_set(eb, SM_ERR_NOMEM, "out of memory");
                goto out;
            }
            text = p;
        }
        got = fread(text + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        int e = errno;

        err = sm_errbuf_set(eb, SM_ERR_IO, "cannot read %s: %s", path, strerror(e));
        goto out;
    }
    err = sm_config_load_string(cfg, path, text ? text : "", len, eb);
out:
    if (f != NULL)
        fclose(f);
    free(text);
    return err;
}

sm_err_t sm_config_override(sm_config_t *cfg, const char *kv, sm_errbuf_t *eb)
{
    const char *eq = strchr(kv, '=');
    char *key = NULL;
    sm_err_t err;

    if (eq == NULL || eq == kv)
        return sm_errbuf_set(eb, SM_ERR_CONFIG, "--override %s: expected key=value", kv);
    key = strndup(kv, (size_t)(eq - kv));
    if (key == NULL)
        return sm_errbuf_set(eb, SM_ERR_NOMEM, "out of memory");
    err = sm_config_store(cfg, key, eq + 1, SM_CONFIG_FROM_OVERRIDE, NULL, 0, "--override: ", eb);
    free(key);
    return err;
}

sm_err_t sm_config_set(sm_config_t *cfg, const char *key, const char *value, sm_errbuf_t *eb)
{
    return sm_config_store(cfg, key, value, SM_CONFIG_FROM_API, NULL, 0, "", eb);
}

/* ---- value parsing ------------------------------------------------------------------------- */

int sm_config_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out, char *why,
                        size_t why_len)
{
    const char *p = s;
    bool neg = false, over = false;
    uint64_t acc = 0, limit;
    int64_t v;

    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    limit = neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
    if (!isdigit((unsigned char)*p)) {
        snprintf(why, why_len, "'%s' is not an integer", s);
        return -1;
    }
    for (; isdigit((unsigned char)*p); p++) {
        uint64_t d = (uint64_t)(*p - '0');

        if (acc > (limit - d) / 10)
            over = true;
        else
            acc = acc * 10 + d;
    }
    if (*p != '\0') {
        snprintf(why, why_len, "'%s' is not an integer", s);
        return -1;
    }
    if (over) {
        snprintf(why, why_len, "'%s' is out of range", s);
        return -1;
    }
    if (neg)
        v = acc == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)acc;
    else
        v = (int64_t)acc;
    if (v < min) {
        snprintf(why, why_len, "%" PRId64 " is less than the minimum %" PRId64, v, min);
        return -1;
    }
    if (v > max) {
        snprintf(why, why_len, "%" PRId64 " is greater than the maximum %" PRId64, v, max);
        return -1;
    }
    *out = v;
    return 0;
}

/* Parses s as host:port; messages quote shown (the whole value the user wrote) and name form
 * (what it should look like). */
static int sm_config_hostport(const char *s, const char *shown, const char *form, char *host,
                              size_t host_len, uint16_t *port, char *why, size_t why_len)
{
    const char *colon, *h = s, *he;
    int64_t p;
    char pwhy[96];

    if (s[0] == '[') {
        he = strchr(s, ']');
        if (he == NULL || he[1] != ':') {
            snprintf(why, why_len, "'%s' is not %s", shown, form);
            return -1;
        }
        h = s + 1;
        colon = he + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL || memchr(s, ':', (size_t)(colon - s)) != NULL) {
            snprintf(why, why_len, "'%s' is not %s", shown, form);
            return -1;
        }
        he = colon;
    }
    for (const char *c = h; c < he; c++) {
        if (!isalnum((unsigned char)*c) && strchr(".-_:%", *c) == NULL) {
            snprintf(why, why_len, "'%s' has a bad host name", shown);
            return -1;
        }
    }
    if ((size_t)(he - h) >= host_len) {
        snprintf(why, why_len, "'%s' has a host name too long", shown);
        return -1;
    }
    if (sm_config_parse_i64(colon + 1, 0, 65535, &p, pwhy, sizeof(pwhy)) < 0) {
        snprintf(why, why_len, "'%s' has a bad port: %s", shown, pwhy);
        return -1;
    }
    memcpy(host, h, (size_t)(he - h));
    host[he - h] = '\0';
    *port = (uint16_t)p;
    return 0;
}

int sm_config_parse_hostport(const char *s, char *host, size_t host_len, uint16_t *port, char *why,
                             size_t why_len)
{
    return sm_config_hostport(s, s, "host:port", host, host_len, port, why, why_len);
}

int sm_config_check_hostport(const char *value, char *why, size_t why_len)
{
    char host[256];
    uint16_t port;

    return sm_config_parse_hostport(value, host, sizeof(host), &port, why, why_len);
}

int sm_config_check_listener(const char *value, char *why, size_t why_len)
{
    static const char scheme[] = "PLAINTEXT://";
    const char *sep = strstr(value, "://");
    char host[256];
    uint16_t port;

    if (sep == NULL) {
        snprintf(why, why_len, "'%s' is not PLAINTEXT://host:port", value);
        return -1;
    }
    if (strncmp(value, scheme, sizeof(scheme) - 1) != 0) {
        snprintf(why, why_len, "'%s': protocol '%.*s' is not supported (only PLAINTEXT)", value,
                 (int)(sep - value), value);
        return -1;
    }
    return sm_config_hostport(value + sizeof(scheme) - 1, value, "PLAINTEXT://host:port", host,
                              sizeof(host), &port, why, why_len);
}

int sm_config_check_zk_connect(const char *value, char *why, size_t why_len)
{
    const char *slash = strchr(value, '/');
    size_t hosts_len = slash ? (size_t)(slash - value) : strlen(value);
    char *hosts = strndup(value, hosts_len);
    char *save = NULL, *tok;
    int rc = 0;

    if (hosts == NULL) {
        snprintf(why, why_len, "out of memory");
        return -1;
    }
    if (hosts_len == 0 || hosts[0] == ',' || hosts[hosts_len - 1] == ',' ||
        strstr(hosts, ",,") != NULL) {
        snprintf(why, why_len, "'%s' is not host:port[,host:port]...[/chroot]", value);
        rc = -1;
    }
    for (tok = strtok_r(hosts, ",", &save); rc == 0 && tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        char host[256], pwhy[160];
        uint16_t port;

        if (sm_config_parse_hostport(tok, host, sizeof(host), &port, pwhy, sizeof(pwhy)) < 0 ||
            host[0] == '\0') {
            snprintf(why, why_len, "'%s' is not host:port[,host:port]...[/chroot]", value);
            rc = -1;
        }
    }
    if (rc == 0 && slash != NULL &&
        (slash[1] == '\0' || strstr(slash, "//") != NULL || slash[strlen(slash) - 1] == '/')) {
        snprintf(why, why_len, "'%s' has a bad chroot path", value);
        rc = -1;
    }
    free(hosts);
    return rc;
}

/* ---- validation ---------------------------------------------------------------------------- */

/* Copies s without leading and trailing blanks (spaces, tabs, form feeds, newlines). */
static char *sm_config_trim_dup(const char *s, size_t n)
{
    while (n > 0 && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    return strndup(s, n);
}

static int sm_config_split(sm_config_val_t *v, char *why, size_t why_len)
{
    const char *p = v->text;
    size_t cap = 1;

    if (*p == '\0')
        return 0;
    for (const char *c = p; *c; c++)
        cap += *c == ',';
    v->items = calloc(cap, sizeof(v->items[0]));
    if (v->items == NULL) {
        snprintf(why, why_len, "out of memory");
        return -1;
    }
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        char *item = sm_config_trim_dup(p, n);

        if (item == NULL) {
            snprintf(why, why_len, "out of memory");
            return -1;
        }
        v->items[v->n_items++] = item;
        if (item[0] == '\0') {
            snprintf(why, why_len, "'%s' has an empty item", v->text);
            return -1;
        }
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    return 0;
}

/* Parses v->text according to k. Returns 0 or -1 with the reason in why. */
static int sm_config_parse_val(const sm_config_key_t *k, sm_config_val_t *v, char *why,
                               size_t why_len)
{
    int64_t lo = INT64_MIN, hi = INT64_MAX;

    switch (k->type) {
    case SM_CONFIG_STRING:
        if (v->text[0] == '\0' && (k->flags & SM_CONFIG_REQUIRED)) {
            snprintf(why, why_len, "must not be empty");
            return -1;
        }
        return k->check && v->text[0] ? k->check(v->text, why, why_len) : 0;
    case SM_CONFIG_INT32:
    case SM_CONFIG_INT64:
        if (k->type == SM_CONFIG_INT32) {
            lo = INT32_MIN;
            hi = INT32_MAX;
        }
        if (k->min != 0 || k->max != 0) {
            lo = k->min > lo ? k->min : lo;
            hi = k->max < hi ? k->max : hi;
        }
        if (sm_config_parse_i64(v->text, lo, hi, &v->num, why, why_len) < 0)
            return -1;
        return k->check ? k->check(v->text, why, why_len) : 0;
    case SM_CONFIG_BOOL:
        if (strcasecmp(v->text, "true") != 0 && strcasecmp(v->text, "false") != 0) {
            snprintf(why, why_len, "'%s' is not true or false", v->text);
            return -1;
        }
        v->flag = strcasecmp(v->text, "true") == 0;
        return 0;
    case SM_CONFIG_LIST:
        if (sm_config_split(v, why, why_len) < 0)
            return -1;
        if (v->n_items == 0 && (k->flags & SM_CONFIG_REQUIRED)) {
            snprintf(why, why_len, "must not be empty");
            return -1;
        }
        for (size_t i = 0; k->check && i < v->n_items; i++) {
            if (k->check(v->items[i], why, why_len) < 0)
                return -1;
        }
        return 0;
    case SM_CONFIG_ENUM: {
        size_t used = 0;
        int r;

        for (int i = 0; k->choices[i] != NULL; i++) {
            if (strcasecmp(v->text, k->choices[i]) == 0) {
                v->choice = i;
                memcpy(v->text, k->choices[i], strlen(v->text));
                return 0;
            }
        }
        r = snprintf(why, why_len, "'%s' is not one of ", v->text);
        used = r > 0 ? (size_t)r : 0;
        for (int i = 0; k->choices[i] != NULL && used < why_len; i++) {
            r = snprintf(why + used, why_len - used, "%s%s", i ? ", " : "", k->choices[i]);
            used += r > 0 ? (size_t)r : 0;
        }
        return -1;
    }
    }
    snprintf(why, why_len, "unknown type");
    return -1;
}

/* The value that key i takes: its own, else that of a set alias, else NULL (default). */
static int sm_config_source(const sm_config_t *cfg, size_t i)
{
    if (cfg->vals[i].raw != NULL)
        return (int)i;
    for (size_t j = 0; j < cfg->n; j++) {
        const char *a = cfg->schema[j].alias_of;

        if (a != NULL && cfg->vals[j].raw != NULL && strcmp(a, cfg->schema[i].name) == 0)
            return (int)j;
    }
    return -1;
}

/* Writes the message prefix for a value stored under key index src (-1: a default). */
static void sm_config_where(const sm_config_t *cfg, int src, char *buf, size_t len)
{
    const sm_config_val_t *v = src >= 0 ? &cfg->vals[src] : NULL;

    if (v != NULL && v->origin == SM_CONFIG_FROM_FILE)
        snprintf(buf, len, "%s:%d: ", v->file, v->line);
    else if (v != NULL && v->origin == SM_CONFIG_FROM_OVERRIDE)
        snprintf(buf, len, "--override: ");
    else if (len > 0)
        buf[0] = '\0';
}

static sm_err_t sm_config_validate_key(sm_config_t *cfg, size_t i, sm_errbuf_t *eb)
{
    const sm_config_key_t *k = &cfg->schema[i];
    sm_config_val_t *v = &cfg->vals[i];
    int src = sm_config_source(cfg, i);
    const char *text = src >= 0 ? cfg->vals[src].raw : k->def;
    char where[200] = "", why[200];

    if (text == NULL) {
        if (k->flags & SM_CONFIG_REQUIRED)
            return sm_errbuf_set(eb, SM_ERR_CONFIG, "missing required key %s", k->name);
        return SM_OK;
    }
    v->text = sm_config_trim_dup(text, strlen(text));
    if (v->text == NULL)
        return sm_errbuf_set(eb, SM_ERR_NOMEM, "out of memory");
    v->present = true;
    v->explicit_set = src >= 0;
    v->src = src;
    if (sm_config_parse_val(k, v, why, sizeof(why)) == 0)
        return SM_OK;
    sm_config_where(cfg, src, where, sizeof(where));
    return sm_errbuf_set(eb, SM_ERR_CONFIG, "%s%sbad value for %s: %s", where,
                         src < 0 ? "default: " : "", cfg->schema[src >= 0 ? src : (int)i].name,
                         why);
}

sm_err_t sm_config_validate(sm_config_t *cfg, sm_errbuf_t *eb)
{
    sm_err_t err = SM_OK;

    cfg->validated = false;
    for (size_t i = 0; i < cfg->n; i++)
        sm_config_val_clear_parsed(&cfg->vals[i]);
    for (size_t i = 0; i < cfg->n && err == SM_OK; i++) {
        if (cfg->schema[i].alias_of == NULL)
            err = sm_config_validate_key(cfg, i, eb);
    }
    cfg->validated = err == SM_OK;
    return err;
}

/* ---- getters ------------------------------------------------------------------------------- */

/* Finds key for a getter; a key outside the schema, a getter of the wrong type or a read before
 * validation is a bug in the caller, so it aborts with a message rather than guess. */
static const sm_config_val_t *sm_config_lookup(const sm_config_t *cfg, const char *key,
                                               unsigned type_mask)
{
    int i = sm_config_find(cfg->schema, cfg->n, key);
    int t = i;

    if (i >= 0 && cfg->schema[i].alias_of != NULL)
        t = sm_config_find(cfg->schema, cfg->n, cfg->schema[i].alias_of);
    if (i < 0 || !cfg->validated || !(type_mask & (1u << cfg->schema[i].type))) {
        sm_log_error("config: bad read of key '%s' (%s)", key,
                     i < 0 ? "not in the schema"
                           : (!cfg->validated ? "not validated" : "wrong getter for its type"));
        abort();
    }
    return &cfg->vals[t];
}

#define SM_CONFIG_ANY    0xffu
#define SM_CONFIG_BIT(t) (1u << (t))

bool sm_config_has(const sm_config_t *cfg, const char *key)
{
    return sm_config_lookup(cfg, key, SM_CONFIG_ANY)->present;
}

bool sm_config_is_set(const sm_config_t *cfg, const char *key)
{
    return sm_config_lookup(cfg, key, SM_CONFIG_ANY)->explicit_set;
}

const char *sm_config_get_str(const sm_config_t *cfg, const char *key)
{
    const sm_config_val_t *v = sm_config_lookup(cfg, key, SM_CONFIG_ANY);

    return v->present ? v->text : NULL;
}

int32_t sm_config_get_int(const sm_config_t *cfg, const char *key)
{
    return (int32_t)sm_config_lookup(cfg, key, SM_CONFIG_BIT(SM_CONFIG_INT32))->num;
}

int64_t sm_config_get_i64(const sm_config_t *cfg, const char *key)
{
    return sm_config_lookup(cfg, key,
                            SM_CONFIG_BIT(SM_CONFIG_INT32) | SM_CONFIG_BIT(SM_CONFIG_INT64))
        ->num;
}

bool sm_config_get_bool(const sm_config_t *cfg, const char *key)
{
    return sm_config_lookup(cfg, key, SM_CONFIG_BIT(SM_CONFIG_BOOL))->flag;
}

const char *const *sm_config_get_list(const sm_config_t *cfg, const char *key, size_t *n)
{
    const sm_config_val_t *v = sm_config_lookup(cfg, key, SM_CONFIG_BIT(SM_CONFIG_LIST));

    *n = v->n_items;
    return (const char *const *)v->items;
}

int sm_config_get_enum(const sm_config_t *cfg, const char *key)
{
    return sm_config_lookup(cfg, key, SM_CONFIG_BIT(SM_CONFIG_ENUM))->choice;
}

const char *sm_config_origin(const sm_config_t *cfg, const char *key, char *buf, size_t len)
{
    const sm_config_val_t *v = sm_config_lookup(cfg, key, SM_CONFIG_ANY);

    sm_config_where(cfg, v->src, buf, len);
    return buf;
}

/* ---- dump and help ------------------------------------------------------------------------- */

static int sm_config_cmp_keys(const void *a, const void *b)
{
    const sm_config_key_t *const *x = a, *const *y = b;

    return strcmp((*x)->name, (*y)->name);
}

char *sm_config_dump(const sm_config_t *cfg)
{
    const sm_config_key_t **keys = calloc(cfg->n ? cfg->n : 1, sizeof(keys[0]));
    sm_config_buf_t b = {0};
    size_t n = 0;
    bool failed = keys == NULL || sm_config_buf_put(&b, "", 0) < 0;

    for (size_t i = 0; !failed && i < cfg->n; i++) {
        if (cfg->schema[i].alias_of == NULL && cfg->vals[i].present)
            keys[n++] = &cfg->schema[i];
    }
    if (!failed)
        qsort(keys, n, sizeof(keys[0]), sm_config_cmp_keys);
    for (size_t i = 0; !failed && i < n; i++) {
        const sm_config_val_t *v = &cfg->vals[keys[i] - cfg->schema];

        failed = sm_config_buf_put(&b, keys[i]->name, strlen(keys[i]->name)) < 0 ||
                 sm_config_buf_putc(&b, '=') < 0 ||
                 sm_config_buf_put(&b, v->text, strlen(v->text)) < 0 ||
                 sm_config_buf_putc(&b, '\n') < 0;
    }
    free(keys);
    if (failed) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

void sm_config_print_keys(const sm_config_key_t *schema, size_t n_keys, FILE *f)
{
    static const char *const types[] = {"string", "int32", "int64", "bool", "list", "enum"};

    for (size_t i = 0; i < n_keys; i++) {
        const sm_config_key_t *k = &schema[i];
        const char *def = k->def ? k->def : (k->flags & SM_CONFIG_REQUIRED ? "(required)" : "");

        if (k->alias_of != NULL) {
            fprintf(f, "  %-36s alias of %s\n", k->name, k->alias_of);
            continue;
        }
        fprintf(f, "  %-36s %-6s %-26s %s\n", k->name, types[k->type], def, k->doc ? k->doc : "");
    }
}

/* ---- command line -------------------------------------------------------------------------- */

/* Matches "--name VALUE", "--name=VALUE" (long) or "-x VALUE" (short) at argv[*i]. Returns 1 and
 * sets *val on a match, 0 when argv[*i] is another option, -1 when the value is missing. */
static int sm_config_args_opt(int argc, char *const *argv, int *i, const char *lng,
                              const char *shrt, const char **val)
{
    const char *a = argv[*i];
    size_t n = strlen(lng);

    if (strncmp(a, lng, n) == 0 && a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    if (strcmp(a, lng) != 0 && (shrt == NULL || strcmp(a, shrt) != 0))
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *val = argv[++*i];
    return 1;
}

sm_err_t sm_config_args_parse(sm_config_args_t *a, int argc, char *const *argv, sm_errbuf_t *eb)
{
    bool rest = false;

    memset(a, 0, sizeof(*a));
    a->overrides = calloc(argc > 0 ? (size_t)argc : 1, sizeof(a->overrides[0]));
    if (a->overrides == NULL)
        return sm_errbuf_set(eb, SM_ERR_NOMEM, "out of memory");
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *val = NULL;
        int r;

        if (!rest && strcmp(arg, "--") == 0) {
            rest = true;
        } else if (!rest && (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)) {
            a->help = true;
        } else if (!rest && (strcmp(arg, "--version") == 0 || strcmp(arg, "-V") == 0)) {
            a->version = true;
        } else if (!rest && (r = sm_config_args_opt(argc, argv, &i, "--config", "-c", &val))) {
            if (r < 0)
                return sm_errbuf_set(eb, SM_ERR_INVALID, "%s needs a FILE", arg);
            if (a->config_path != NULL)
                return sm_errbuf_set(eb, SM_ERR_INVALID, "more than one config file ('%s', '%s')",
                                     a->config_path, val);
            a->config_path = val;
        } else if (!rest && (r = sm_config_args_opt(argc, argv, &i, "--override", NULL, &val))) {
            if (r < 0)
                return sm_errbuf_set(eb, SM_ERR_INVALID, "--override needs key=value");
            a->overrides[a->n_overrides++] = val;
        } else if (!rest && arg[0] == '-' && arg[1] != '\0') {
            return sm_errbuf_set(eb, SM_ERR_INVALID, "unknown option '%s' (see --help)", arg);
        } else if (a->config_path == NULL) {
            a->config_path = arg; /* kafka-server-start.sh style: the file as an argument */
        } else {
            return sm_errbuf_set(eb, SM_ERR_INVALID, "unexpected argument '%s'", arg);
        }
    }
    if (a->config_path == NULL && !a->help && !a->version)
        return sm_errbuf_set(eb, SM_ERR_INVALID, "missing -c FILE (see --help)");
    return SM_OK;
}

void sm_config_args_deinit(sm_config_args_t *a)
{
    if (a == NULL)
        return;
    free(a->overrides);
    a->overrides = NULL;
    a->n_overrides = 0;
}

sm_err_t sm_config_load_all(const sm_config_key_t *keys, size_t n_keys, const char *path,
                            const char *const *overrides, size_t n_overrides,
                            sm_config_post_fn post, sm_config_t **out, sm_errbuf_t *eb)
{
    sm_config_t *cfg = NULL;
    sm_err_t err;

    *out = NULL;
    err = sm_config_new(keys, n_keys, &cfg);
    if (err != SM_OK) {
        sm_errbuf_set(eb, err, "cannot create the configuration: %s", sm_err_str(err));
        goto out;
    }
    if (path != NULL && (err = sm_config_load_file(cfg, path, eb)) != SM_OK)
        goto out;
    for (size_t i = 0; i < n_overrides; i++) {
        err = sm_config_override(cfg, overrides[i], eb);
        if (err != SM_OK)
            goto out;
    }
    err = sm_config_validate(cfg, eb);
    if (err == SM_OK && post != NULL)
        err = post(cfg, eb);
    if (err == SM_OK) {
        *out = cfg;
        cfg = NULL;
    }
out:
    sm_config_free(cfg);
    return err;
}
