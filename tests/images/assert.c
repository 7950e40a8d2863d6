/* A failed assert(): glibc prints "<prog>: <file>:<line>: <func>: Assertion `<expr>' failed."
 * and calls abort() (SIGABRT, exit 134 -- or see docs/taxonomy-notes.md for PID 1). */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

static int parse_workers(const char *text)
{
    return text ? atoi(text) : 0;
}

int main(void)
{
    int workers = parse_workers(getenv("WORKERS"));
    printf("starting with %d workers\n", workers);
    fflush(stdout);
    assert(workers > 0);
    return 0;
}
