"""sgpadmin's background processes: Celery workers and beat, started with the project's
configuration (``python -m worker worker``, ``python -m worker beat``), and a liveness
check for them (``python -m worker health``)."""
