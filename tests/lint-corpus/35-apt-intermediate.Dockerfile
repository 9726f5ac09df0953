FROM debian:bookworm-slim AS deps
RUN apt-get update && apt-get -qq install --no-install-recommends gcc=4:12.2.0-3
FROM deps
RUN echo uses deps as base
USER nobody
