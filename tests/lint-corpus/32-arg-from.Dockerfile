ARG BASE_IMAGE=python:3.9-slim-bullseye
ARG TAG
FROM ${BASE_IMAGE}
FROM python:${TAG}
FROM $BASE_IMAGE AS final
USER nobody
