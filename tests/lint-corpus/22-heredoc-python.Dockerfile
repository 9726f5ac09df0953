# syntax=docker/dockerfile:1
FROM python:3.11-slim
RUN python3 <<EOF
import sys
print(sys.version)
EOF
RUN <<'EOF'
echo '$HOME is not expanded'
EOF
USER 1000
