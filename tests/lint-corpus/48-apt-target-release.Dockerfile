FROM debian:bullseye
RUN apt-get update && apt-get install -y --no-install-recommends -t bullseye-backports \
      git=1:2.30.2-1 ./local.deb foo/bullseye-backports \
    && rm -rf /var/lib/apt/lists/*
USER nobody
