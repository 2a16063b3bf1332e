"""Periodic tasks in Celery's spelling: ``crontab(...)`` as cron strings (`crontab`),
``beat_schedule`` entries (`entries`), the flow each entry's runs execute (`runner`) and
the entries -> deployments sync beat does when it starts (`sync`)."""
