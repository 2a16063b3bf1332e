"""The worker process: executes runs from Celery queues and reports their states in batches."""
