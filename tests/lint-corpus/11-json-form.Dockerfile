FROM alpine:3.20
ENTRYPOINT ["/entrypoint.sh"]
CMD ["serve"]
HEALTHCHECK NONE
USER nobody
