"""Arguments and results Celery's JSON serializer carries as their own types: date,
datetime, time, UUID, Decimal. Celery: docs.celeryq.dev userguide/calling.html#serializers
(kombu's json encodes these types)."""
# needs: worker
# timeout: 60
import os
from datetime import date, datetime, time
from decimal import Decimal
from uuid import UUID

from celery import Celery

app = Celery("argument_types", broker=os.environ["COMPAT_BROKER_URL"],
             backend=os.environ["COMPAT_BROKER_URL"])


@app.task
def describe(value):
    return [type(value).__name__, value]


def main():
    for value in (date(2024, 1, 2), datetime(2024, 1, 2, 3, 4, 5), time(13, 14),
                  UUID(int=5), Decimal("1.50")):
        kind, back = describe.delay(value).get(timeout=30)
        print(kind, back == value, type(back).__name__)


if __name__ == "__main__":
    main()
# expect:
# date True date
# datetime True datetime
# time True time
# UUID True UUID
# Decimal True Decimal
