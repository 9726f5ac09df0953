FROM nginx:1.27
HEALTHCHECK --interval=30s --timeout=3s \
  CMD ["curl", "-f", "http://localhost/"]
USER nginx
