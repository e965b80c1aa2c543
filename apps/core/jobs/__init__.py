"""Background jobs with live progress: a ``Job`` row and its log, run by one Celery task.

A job kind is any function decorated with :func:`job_kind`; it receives a
:class:`JobContext` (``log()``, ``progress()``) and its parameters, and returns a JSON
result. :func:`enqueue` creates the row and queues the run after the request commits.
"""
