"""The end-to-end suite's sample DAG for Airflow 3: `airflow dags list` in the built project image must show it."""

from datetime import datetime

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

with DAG(
    dag_id="e2e_sample",
    start_date=datetime(2022, 1, 1),
    schedule=None,
    catchup=False,
    tags=["e2e"],
) as dag:
    BashOperator(task_id="hello", bash_command="echo hello")
