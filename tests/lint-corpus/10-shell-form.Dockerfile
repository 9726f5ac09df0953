FROM alpine:3.20
ENTRYPOINT /entrypoint.sh
CMD echo hello
HEALTHCHECK --interval=5s CMD curl -f http://localhost/ || exit 1
USER nobody
