// An uncaught C++ exception: libstdc++'s verbose terminate handler prints
// "terminate called after throwing an instance of 'std::runtime_error'" and "  what():  ...",
// then abort() (SIGABRT).  With `badalloc` as argument the exception is std::bad_alloc from a
// real failed allocation.
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <vector>

int main(int argc, char **argv)
{
    std::printf("loading configuration\n");
    std::fflush(stdout);
    if (argc > 1 && std::strcmp(argv[1], "badalloc") == 0) {
        std::vector<char> huge;
        huge.reserve(static_cast<size_t>(1) << 62);  // more than any address space: bad_alloc
    }
    throw std::runtime_error("config file /etc/app/app.toml: missing [server] section");
}
