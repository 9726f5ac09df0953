FROM ubuntu:22.04
RUN sudo apt-get -y install --no-install-recommends make=4.3-4.1build1
RUN cd /src && make
WORKDIR /src
USER app
