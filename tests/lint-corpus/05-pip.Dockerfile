FROM python:3.9-slim
RUN pip install flask requests==2.28.1
RUN pip install --no-cache-dir -r requirements.txt
RUN pip3 install --no-cache-dir --constraint /c.txt apache-airflow
RUN python -m pip install --no-cache-dir 'django>=4' ./local.whl
USER 1000
