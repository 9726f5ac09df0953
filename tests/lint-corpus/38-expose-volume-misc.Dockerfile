FROM nginx:1.27
EXPOSE 80/tcp 443
VOLUME ["/data", "/logs"]
VOLUME /cache
STOPSIGNAL SIGQUIT
ARG A=1 B
LABEL a=b
USER nginx
