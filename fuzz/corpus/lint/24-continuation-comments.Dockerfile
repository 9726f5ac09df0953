FROM debian:bookworm-slim
RUN apt-get update \
# this comment is removed by the parser
    && apt-get install -y --no-install-recommends \
        # so is this indented one
        curl=7.88.1-10+deb12u5 \

        wget=1.21.3-1+b2 \
    && rm -rf /var/lib/apt/lists/*
USER nobody
