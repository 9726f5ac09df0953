FROM python:3.12-slim
RUN python3 -m pip install --no-cache-dir --user poetry
RUN python -m pip install --no-cache-dir "uvicorn[standard]==0.30.1"
USER 1000
