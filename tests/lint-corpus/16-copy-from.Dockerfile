FROM golang:1.22 AS builder
RUN go build -o /app ./...
FROM alpine:3.20
COPY --from=builder /app /app
COPY --from=buildr /app /app2
COPY --from=0 /etc/passwd /p
COPY --from=7 /etc/passwd /q
COPY --from=nginx:1.27 /etc/nginx /etc/nginx
COPY --from=nginx /etc/nginx /etc/nginx2
USER nobody
