# syntax=docker/dockerfile:1
FROM debian:bookworm-slim
RUN <<EOF
apt-get update
apt-get install -y --no-install-recommends ca-certificates=20230311
rm -rf /var/lib/apt/lists/*
EOF
RUN <<EOF bash
set -eu
echo "in bash"
EOF
USER nobody
