FROM python:3.11-slim AS base
ENV PIP_NO_CACHE_DIR=1
RUN pip install flask==3.0.0
FROM base
RUN pip install requests==2.31.0
FROM python:3.11-slim
RUN PIP_NO_CACHE_DIR=true pip install click==8.1.7
RUN --mount=type=cache,target=/root/.cache/pip pip install rich==13.7.0
RUN pip install pipx==1.4.3 && pipx install black
USER 1000
