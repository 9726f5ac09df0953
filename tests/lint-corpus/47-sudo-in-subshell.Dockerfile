FROM ubuntu:22.04
RUN (sudo true) && echo "$(sudo id)"
USER app
