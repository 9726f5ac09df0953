FROM alpine:3.20 AS build
USER root
RUN echo build
FROM alpine:3.20
USER app
RUN echo x
USER root
