# PostgreSQL's server binaries (initdb, pg_ctl), for the tests that run against
# a throw-away cluster on 127.0.0.1.
need 'command -v initdb || ls /usr/lib/postgresql/*/bin/initdb' postgresql
