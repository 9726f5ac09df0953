FROM debian:bookworm-slim
# hadolint ignore=DL3008,DL3015
RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*
# runtime-kit ignore=RK113 debian pins move too often
RUN apt-get update && apt-get install -y --no-install-recommends wget && rm -rf /var/lib/apt/lists/*
# runtime-kit ignore=RK999
USER nobody
