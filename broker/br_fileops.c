/*
 * br_fileops: the POSIX implementation of the storage file-operations seam.
 */
#include "broker/br_fileops.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static int br_fileops_posix_open(void *ctx, const char *path, int flags, mode_t mode)
{
    int fd;

    (void)ctx;
    do {
        fd = open(path, flags | O_CLOEXEC, mode);
    } while (fd < 0 && errno == EINTR);
    return fd;
}

static int br_fileops_posix_close(void *ctx, int fd)
{
    (void)ctx;
    return close(fd);
}

static ssize_t br_fileops_posix_pwrite(void *ctx, int fd, const void *buf, size_t len, off_t off)
{
    ssize_t n;

    (void)ctx;
    do {
        n = pwrite(fd, buf, len, off);
    } while (n < 0 && errno == EINTR);
    return n;
}

static ssize_t br_fileops_posix_pread(void *ctx, int fd, void *buf, size_t len, off_t off)
{
    ssize_t n;

    (void)ctx;
    do {
        n = pread(fd, buf, len, off);
    } while (n < 0 && errno == EINTR);
    return n;
}

static int br_fileops_posix_fsync(void *ctx, int fd)
{
    (void)ctx;
    return fsync(fd);
}

static int br_fileops_posix_ftruncate(void *ctx, int fd, off_t len)
{
    (void)ctx;
    return ftruncate(fd, len);
}

static int br_fileops_posix_rename(void *ctx, const char *from, const char *to)
{
    (void)ctx;
    return rename(from, to);
}

static int br_fileops_posix_unlink(void *ctx, const char *path)
{
    (void)ctx;
    return unlink(path);
}

static int br_fileops_posix_mkdir(void *ctx, const char *path, mode_t mode)
{
    (void)ctx;
    return mkdir(path, mode);
}

static const br_fileops_t br_fileops_posix_table = {
    .ctx = NULL,
    .open = br_fileops_posix_open,
    .close = br_fileops_posix_close,
    .pwrite = br_fileops_posix_pwrite,
    .pread = br_fileops_posix_pread,
    .fsync = br_fileops_posix_fsync,
    .ftruncate = br_fileops_posix_ftruncate,
    .rename = br_fileops_posix_rename,
    .unlink = br_fileops_posix_unlink,
    .mkdir = br_fileops_posix_mkdir,
};

const br_fileops_t *br_fileops_posix(void)
{
    return &br_fileops_posix_table;
}
