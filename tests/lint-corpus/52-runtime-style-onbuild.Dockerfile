# syntax=docker/dockerfile:1
ARG BASE_IMAGE=quay.io/astronomer/astro-runtime:5.0.6-base
FROM ${BASE_IMAGE}
LABEL io.astronomer.docker.runtime.variant="onbuild" \
      io.astronomer.docker.runtime.version="5.0.6" \
      io.astronomer.docker.airflow.version="2.3.3"
USER root
ONBUILD COPY packages.txt .
# hadolint ignore=DL3008
ONBUILD RUN apt-get update && xargs -a packages.txt apt-get install -y --no-install-recommends && rm -rf /var/lib/apt/lists/*
ONBUILD COPY requirements.txt .
ONBUILD RUN pip install --no-cache-dir -r requirements.txt
ONBUILD COPY --chown=astro:astro . .
USER astro
