FROM alpine:3.20
USER root:root
FROM alpine:3.20
USER 0
