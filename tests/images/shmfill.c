/* Use POSIX shared memory in /dev/shm the way PyTorch's DataLoader and Chromium do: size a
 * segment with ftruncate, map it and write to it.  tmpfs lets the sparse file be larger than
 * the mount, so the write that needs a page beyond the mount's size gets SIGBUS (exit 135).
 * With `fallocate` as first argument it reserves the space first the way Postgres does
 * (posix_fallocate), and reports ENOSPC ("No space left on device") instead of crashing.
 * Usage: shmfill [mmap|fallocate] [MiB]   (default: mmap 128) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "mmap";
    size_t mib = argc > 2 ? strtoul(argv[2], NULL, 10) : 128;
    size_t size = mib << 20;
    const char *path = "/dev/shm/shmfill.segment";
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        fprintf(stderr, "shmfill: open %s: %s\n", path, strerror(errno));
        return 1;
    }
    if (strcmp(mode, "fallocate") == 0) {
        int err = posix_fallocate(fd, 0, (off_t)size);
        if (err != 0) {
            fprintf(stderr,
                    "shmfill: could not resize shared memory segment \"%s\" to %zu bytes: %s\n",
                    path, size, strerror(err));
            return 1;
        }
        printf("reserved %zu MiB in /dev/shm\n", mib);
        return 0;
    }
    if (ftruncate(fd, (off_t)size) != 0) {
        fprintf(stderr, "shmfill: ftruncate: %s\n", strerror(errno));
        return 1;
    }
    char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        fprintf(stderr, "shmfill: mmap: %s\n", strerror(errno));
        return 1;
    }
    printf("mapped %zu MiB of /dev/shm, filling\n", mib);
    fflush(stdout);
    for (size_t off = 0; off < size; off += 4096) {
        p[off] = 1;  /* SIGBUS here once tmpfs has no page left */
        if (off % (16 << 20) == 0) {
            printf("filled %zu MiB\n", off >> 20);
            fflush(stdout);
        }
    }
    printf("filled all %zu MiB\n", mib);
    return 0;
}
