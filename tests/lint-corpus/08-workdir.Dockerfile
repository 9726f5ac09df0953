FROM alpine:3.20
WORKDIR app
WORKDIR /abs
WORKDIR $HOME/x
WORKDIR "relative/quoted"
USER nobody
