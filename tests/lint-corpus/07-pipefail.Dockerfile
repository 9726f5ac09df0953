FROM debian:12
RUN curl -fsSL https://example.com/install.sh | sh
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN curl -fsSL https://example.com/install.sh | bash
FROM debian:12 AS second
RUN echo a | tee /log
USER nobody
