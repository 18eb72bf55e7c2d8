#!/usr/bin/env bash
# Start the local services the test suite talks to, if they are not already running.
# Commands from the machine notes (python-svc); each is a no-op when the service is up.
set -u
up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if ! up 5432; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi
if ! up 1883; then
  mosquitto -d -c /etc/mosquitto/mosquitto.conf || true
fi
for i in $(seq 1 30); do up 5432 && break; sleep 1; done
up 5432 || { echo "PostgreSQL is not reachable on 127.0.0.1:5432; the store tests need it." >&2; exit 1; }
