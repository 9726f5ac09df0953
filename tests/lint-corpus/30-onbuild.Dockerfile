FROM python:3.9-slim-bullseye
ONBUILD COPY packages.txt .
ONBUILD RUN apt-get update && apt-get install $(cat packages.txt)
ONBUILD RUN pip install -r requirements.txt
ONBUILD RUN pip install flask
ONBUILD RUN sudo echo hi
ONBUILD USER root
USER astro
