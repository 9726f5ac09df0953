FROM golang:1.22 AS build
RUN go version
FROM golang:1.22 AS build
RUN go env
FROM alpine:3.20
COPY --from=build /go/bin /bin
USER nobody
