"""apply_async's calling options: task_id, headers, shadow, expires; send_task by name.
Celery: docs.celeryq.dev userguide/calling.html (cheat sheet, expiration) and
reference celery.app.base send_task."""
# needs: worker
# timeout: 90
import os
from datetime import UTC, datetime, timedelta

from celery import Celery

app = Celery("calling_options", broker=os.environ["COMPAT_BROKER_URL"],
             backend=os.environ["COMPAT_BROKER_URL"])


@app.task
def add(x, y):
    return x + y


def main():
    mine = add.apply_async((2, 3), task_id="calling-options-order-42")
    print(mine.id)
    print(mine.get(timeout=30))
    print(app.send_task("calling_options.add", (4, 5)).get(timeout=30))
    print(add.apply_async((1, 1), headers={"tenant": "acme"}, shadow="add-for-acme",
                          retry=True, retry_policy={"max_retries": 2}).get(timeout=30))
    print(add.apply_async((3, 3), expires=60).get(timeout=30))
    past = datetime.now(UTC) - timedelta(seconds=5)
    expired = add.apply_async((1, 2), expires=past)
    try:
        expired.get(timeout=30)
        print("expired task ran")
    except Exception:
        print("expired task did not run")


if __name__ == "__main__":
    main()
# expect:
# calling-options-order-42
# 5
# 9
# 2
# 6
# expired task did not run
