FROM debian:bullseye-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl=7.74.0-1.3+deb11u7 \
    && rm -rf /var/lib/apt/lists/*
USER nobody
