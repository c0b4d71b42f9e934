#!/bin/sh
# Makes the compose stack's secret files in deploy/secrets/ if they are missing: random
# passwords for Postgres and Grafana's admin, and the token Prometheus reads /metrics with. An existing file is kept, so a password never
# changes under a database that already uses it.
set -eu

dir="$(cd "$(dirname "$0")" && pwd)/secrets"
mkdir -p "$dir"
for name in postgres_password grafana_admin_password metrics_token; do
  file="$dir/$name"
  if [ -s "$file" ]; then
    echo "kept $file"
    continue
  fi
  # 24 random bytes as URL-safe text: no characters a connection string would need escaped.
  head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' >"$file"
  # Readable by the containers' own users (the compose file mounts the file as it is).
  chmod 644 "$file"
  echo "made $file"
done
