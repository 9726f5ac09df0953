FROM alpine:3.20
ADD app.py /app/
ADD https://example.com/file.txt /tmp/
ADD rootfs.tar.gz /
ADD --chown=1:1 a.txt b.tgz /x/
USER nobody
