/* Start worker threads (or processes) until the kernel refuses, the way a thread pool or a
 * pre-forking server grows: pthread_create/fork fail with EAGAIN ("Resource temporarily
 * unavailable") under --pids-limit (or RLIMIT_NPROC).  Prints how many it got, then exits 1;
 * with `keep` it stays up and retries every second instead, like a server's master process
 * (nginx: "fork() failed while spawning "worker process" (11: Resource temporarily
 * unavailable)"), so the container keeps running at its limit.
 * Usage: spawn [threads|fork] [max] [keep]   (default: threads 10000) */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *worker(void *arg)
{
    (void)arg;
    pause();
    return NULL;
}

int main(int argc, char **argv)
{
    int use_fork = argc > 1 && strcmp(argv[1], "fork") == 0;
    long max = argc > 2 ? strtol(argv[2], NULL, 10) : 10000;
    int keep = argc > 3 && strcmp(argv[3], "keep") == 0;
    for (long n = 0; n < max; n++) {
        if (use_fork) {
            pid_t pid = fork();
            if (pid == 0) {
                pause();
                _exit(0);
            }
            if (pid < 0) {
                fprintf(stderr, "spawn: fork() failed while spawning worker %ld: %s\n", n + 1,
                        strerror(errno));
                if (!keep)
                    return 1;
                sleep(1);
                n--;
                continue;
            }
        } else {
            pthread_t t;
            pthread_attr_t attr;
            pthread_attr_init(&attr);
            pthread_attr_setstacksize(&attr, 64 * 1024);
            int err = pthread_create(&t, &attr, worker, NULL);
            if (err != 0) {
                fprintf(stderr, "spawn: pthread_create failed for worker %ld: %s\n", n + 1,
                        strerror(err));
                if (!keep)
                    return 1;
                sleep(1);
                n--;
                continue;
            }
        }
        if ((n + 1) % 10 == 0) {
            printf("%ld workers\n", n + 1);
            fflush(stdout);
        }
    }
    printf("started %ld workers\n", max);
    return 0;
}
