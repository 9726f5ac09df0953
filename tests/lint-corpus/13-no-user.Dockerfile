FROM alpine:3.20
RUN echo no user here
