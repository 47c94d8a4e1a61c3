/*
 * br_fileops: the file-operations seam of the storage engine.
 *
 * Every file call the storage engine makes goes through one of these tables, so a test can
 * inject EIO, ENOSPC or short writes at any step (SQLite's VFS idea, STYLE.md rule 12). Each
 * function behaves like its POSIX namesake: it returns -1 (or a short count) and sets errno.
 * `ctx` is handed back to every call untouched.
 */
#ifndef BR_FILEOPS_H
#define BR_FILEOPS_H

#include <sys/types.h>
#include <stddef.h>

typedef struct br_fileops {
    void *ctx;
    int (*open)(void *ctx, const char *path, int flags, mode_t mode);
    int (*close)(void *ctx, int fd);
    ssize_t (*pwrite)(void *ctx, int fd, const void *buf, size_t len, off_t off);
    ssize_t (*pread)(void *ctx, int fd, void *buf, size_t len, off_t off);
    int (*fsync)(void *ctx, int fd);
    int (*ftruncate)(void *ctx, int fd, off_t len);
    int (*rename)(void *ctx, const char *from, const char *to);
    int (*unlink)(void *ctx, const char *path);
    int (*mkdir)(void *ctx, const char *path, mode_t mode);
} br_fileops_t;

/* The real thing: thin wrappers over the system calls (EINTR retried). Never NULL. */
const br_fileops_t *br_fileops_posix(void);

#endif
