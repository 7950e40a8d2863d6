/* A real segmentation fault (a NULL pointer write): exit 139 as PID 1 or as a child.  The
 * look-alike of an abort() that ends as SIGSEGV when the aborting program is PID 1. */
#include <stdio.h>

int main(void)
{
    volatile int *p = NULL;
    printf("parsing request\n");
    fflush(stdout);
    *p = 42;
    return 0;
}
