/*
 * ctl_paths: znode path builders and parsers (see ctl_paths.h).
 */
#include "controller/ctl_paths.h"

#include <stdio.h>
#include <string.h>

char *ctl_path_broker(char *buf, size_t len, int32_t id)
{
    snprintf(buf, len, CTL_PATH_BROKERS "/%d", (int)id);
    return buf;
}

char *ctl_path_topic(char *buf, size_t len, const char *topic)
{
    snprintf(buf, len, CTL_PATH_TOPICS "/%s", topic);
    return buf;
}

char *ctl_path_partitions(char *buf, size_t len, const char *topic)
{
    snprintf(buf, len, CTL_PATH_TOPICS "/%s/partitions", topic);
    return buf;
}

char *ctl_path_partition(char *buf, size_t len, const char *topic, int32_t p)
{
    snprintf(buf, len, CTL_PATH_TOPICS "/%s/partitions/%d", topic, (int)p);
    return buf;
}

char *ctl_path_state(char *buf, size_t len, const char *topic, int32_t p)
{
    snprintf(buf, len, CTL_PATH_TOPICS "/%s/partitions/%d/state", topic, (int)p);
    return buf;
}

char *ctl_path_config(char *buf, size_t len, const char *topic)
{
    snprintf(buf, len, CTL_PATH_CONFIGS "/%s", topic);
    return buf;
}

char *ctl_path_deletion(char *buf, size_t len, const char *topic)
{
    snprintf(buf, len, CTL_PATH_DELETIONS "/%s", topic);
    return buf;
}

bool ctl_path_child_of(const char *path, const char *prefix, char *name_buf, size_t len)
{
    size_t n = strlen(prefix);
    const char *name = path + n + 1;

    if (strncmp(path, prefix, n) != 0 || path[n] != '/' || *name == '\0' ||
        strchr(name, '/') != NULL || strlen(name) >= len)
        return false;
    memcpy(name_buf, name, strlen(name) + 1);
    return true;
}

bool ctl_path_parse_int(const char *s, int32_t *out)
{
    int64_t v = 0;

    if (s == NULL || *s == '\0')
        return false;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9' || v > 214748364)
            return false;
        v = v * 10 + (*s - '0');
    }
    if (v > INT32_MAX)
        return false;
    *out = (int32_t)v;
    return true;
}

bool ctl_path_parse_state(const char *path, char *topic_buf, size_t len, int32_t *p)
{
    static const char pre[] = CTL_PATH_TOPICS "/";
    const char *t = path + sizeof(pre) - 1, *mid, *num, *end;
    char digits[16];

    if (strncmp(path, pre, sizeof(pre) - 1) != 0)
        return false;
    mid = strstr(t, "/partitions/");
    if (mid == NULL || mid == t || (size_t)(mid - t) >= len)
        return false;
    num = mid + strlen("/partitions/");
    end = strchr(num, '/');
    if (end == NULL || strcmp(end, "/state") != 0 || (size_t)(end - num) >= sizeof(digits))
        return false;
    memcpy(digits, num, (size_t)(end - num));
    digits[end - num] = '\0';
    if (!ctl_path_parse_int(digits, p))
        return false;
    memcpy(topic_buf, t, (size_t)(mid - t));
    topic_buf[mid - t] = '\0';
    return true;
}
