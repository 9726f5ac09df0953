FROM alpine:3.20
RUN apk add --no-cache curl \
    && echo done
CMD echo crlf
USER nobody
