#!/bin/sh
# The official postgres image's docker-entrypoint.sh, reduced to what matters here: initialise
# $PGDATA when it holds no cluster yet, otherwise keep it, then run the server in the
# foreground.  The server itself checks the cluster (PG_VERSION, ownership, permissions).
set -e
if [ "$1" = postgres ]; then
    if [ -s "$PGDATA/PG_VERSION" ]; then
        echo
        echo "PostgreSQL Database directory appears to contain a database; Skipping initialization"
        echo
    else
        initdb -D "$PGDATA" --username=postgres --auth=trust --no-locale --encoding=UTF8 --no-sync
        echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
        echo "unix_socket_directories = '/var/run/postgresql'" >>"$PGDATA/postgresql.conf"
    fi
fi
exec "$@"
