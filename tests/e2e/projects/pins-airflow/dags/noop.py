"""A project whose requirements.txt pins apache-airflow: its build must fail."""
