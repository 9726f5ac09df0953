FROM alpine:3.20
ENV PATH /usr/local/bin:$PATH
ENV A=1 B="two words" C='single'
LABEL maintainer="Jane Doe" \
      org.opencontainers.image.version="1.0"
USER nobody
