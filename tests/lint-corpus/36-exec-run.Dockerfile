FROM debian:bookworm-slim
RUN ["apt-get", "install", "-y", "curl"]
RUN ["/bin/sh", "-c", "echo exec form"]
USER nobody
