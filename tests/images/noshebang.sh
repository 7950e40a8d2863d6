# A script without a "#!" line: the kernel cannot execute it (ENOEXEC), so as an entrypoint
# runc reports "exec /usr/local/bin/noshebang.sh: exec format error" -- in a native image.
echo "this line never runs"
