FROM debian:bookworm-slim
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN if [ -f /etc/debian_version ]; then \
      apt-get update && apt-get install -y --no-install-recommends jq=1.6-2.1; \
    fi \
    && for f in a b; do echo "$f" | tr a-z A-Z; done \
    && VERSION="$(cat /etc/debian_version)" \
    && echo "${VERSION}" > /v \
    && rm -rf /var/lib/apt/lists/*
USER nobody
