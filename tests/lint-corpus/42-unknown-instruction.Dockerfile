FROM alpine:3.20
FOO bar
