/* Free the same block twice: glibc's allocator detects it and aborts (SIGABRT) with its own
 * message, "free(): double free detected in tcache 2" (small block, tcache) or, with
 * `fastbin` as argument, "double free or corruption (fasttop)" (tcache full, fastbin path). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    int fastbin = argc > 1 && strcmp(argv[1], "fastbin") == 0;
    void *keep[7];
    if (fastbin) {
        /* Fill the 7-entry tcache bin so the next frees of this size go to the fastbin. */
        for (int i = 0; i < 7; i++)
            keep[i] = malloc(24);
        void *p = malloc(24);
        for (int i = 0; i < 7; i++)
            free(keep[i]);
        printf("freeing %p twice (fastbin)\n", p);
        fflush(stdout);
        free(p);
        free(p);
    } else {
        char *p = malloc(32);
        strcpy(p, "request buffer");
        printf("freeing %p twice\n", (void *)p);
        fflush(stdout);
        free(p);
        free(p);
    }
    return 0;
}
