FROM python:3.11-slim
RUN pip install --no-cache-dir --index-url https://example.com/simple foo==1.0
RUN pip install --no-cache-dir -e git+https://github.com/x/y.git@v1#egg=y
RUN pip install --no-cache-dir git+https://github.com/x/y.git
RUN pip install --no-cache-dir --upgrade pip
RUN pipenv install
RUN pip install --no-cache-dir .
USER 1000
