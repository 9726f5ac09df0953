FROM ubuntu
RUN echo bom
USER nobody
