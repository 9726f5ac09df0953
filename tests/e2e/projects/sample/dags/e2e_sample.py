"""The end-to-end suite's sample DAG: `airflow dags list` in the built project image must show it."""

from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator

with DAG(
    dag_id="e2e_sample",
    start_date=datetime(2022, 1, 1),
    schedule_interval=None,
    catchup=False,
    tags=["e2e"],
) as dag:
    BashOperator(task_id="hello", bash_command="echo hello")
