# syntax=docker/dockerfile:1
FROM alpine:3.20
COPY <<EOF /etc/app.conf
port = 8080
FROM not-an-instruction
EOF
COPY <<-EOT /usr/local/bin/start
	#!/bin/sh
	exec app
	EOT
RUN chmod +x /usr/local/bin/start
USER nobody
