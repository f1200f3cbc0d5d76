#!/usr/bin/env bash
# Makes sure the services and Debian packages the test suite needs are present.
# Safe to run repeatedly; it only installs or starts what is missing.
#  - PostgreSQL on 127.0.0.1:5432 with a database "test" reachable without a
#    password (the store tests run against it as well as SQLite).
#  - Debian's Chromium at /usr/bin/chromium (the review UI's browser test drives
#    it with Playwright; browsers are never downloaded by `playwright install`).
set -uo pipefail

log() { echo "[system-deps] $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

apt_updated=0
apt_install() {
  if [ $apt_updated = 0 ]; then as_root apt-get update -qq && apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@"
}

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

if ! pg_up; then
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    log "PostgreSQL is not installed; installing Debian's postgresql"
    apt_install postgresql postgresql-client || log "could not install postgresql"
    fresh_install=1
  fi
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
    if [ -n "${fresh_install:-}" ] && [ -n "$version" ]; then
      # A fresh cluster asks for passwords over TCP; the test cluster trusts
      # loopback connections, as the project's machines do.
      hba=/etc/postgresql/$version/main/pg_hba.conf
      as_root sed -i -E 's/^(host\s+all\s+all\s+127\.0\.0\.1\/32\s+)\S+/\1trust/' "$hba"
    fi
    log "starting PostgreSQL $version"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
    for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  fi
fi

if pg_up; then
  if ! psql -h 127.0.0.1 -U postgres -d test -Atqc 'select 1' >/dev/null 2>&1; then
    psql -h 127.0.0.1 -U postgres -d postgres -qc 'CREATE DATABASE test' >/dev/null 2>&1 \
      || log "could not create database test"
  fi
  log "PostgreSQL is up on 127.0.0.1:5432"
else
  log "WARNING: PostgreSQL is NOT available: the PostgreSQL store tests will be SKIPPED"
fi
# Chromium for the review UI's browser test (tests/api/test_browser.py).
if [ ! -x /usr/bin/chromium ]; then
  log "Chromium is not installed; installing Debian's chromium"
  apt_install chromium || log "could not install chromium"
fi
if [ -x /usr/bin/chromium ]; then
  log "Chromium is at /usr/bin/chromium"
else
  log "WARNING: Chromium is NOT available: the browser test will be SKIPPED"
fi
exit 0
