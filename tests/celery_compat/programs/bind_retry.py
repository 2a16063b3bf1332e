"""Bound tasks: self.request and self.retry(exc=, countdown=, max_retries=); past
max_retries the exception is raised. Celery: docs.celeryq.dev userguide/tasks.html#bound-tasks,
#task-request-info, #retrying."""
# needs: worker
# timeout: 60
import os

from celery import Celery

app = Celery("bind_retry", broker=os.environ["COMPAT_BROKER_URL"],
             backend=os.environ["COMPAT_BROKER_URL"])


@app.task(bind=True)
def whoami(self, x, y=0):
    request = self.request
    return [self.name, request.retries, list(request.args), request.kwargs,
            request.root_id == request.id, request.parent_id, request.is_eager]


@app.task(bind=True, max_retries=3)
def flaky(self, until):
    if self.request.retries < until:
        raise self.retry(exc=ValueError("flaky"), countdown=0.1)
    return f"ok after {self.request.retries} retries"


@app.task(bind=True)
def doomed(self):
    raise self.retry(exc=KeyError("gone"), countdown=0.1, max_retries=1)


@app.task(bind=True, max_retries=1, default_retry_delay=0.1)
def no_exc(self):
    raise self.retry()


def main():
    print(whoami.delay(1, 2).get(timeout=30))
    print(flaky.delay(2).get(timeout=30))
    for task in (doomed, no_exc):
        try:
            task.delay().get(timeout=30)
        except Exception as exc:
            print(task.name, type(exc).__name__)


if __name__ == "__main__":
    main()
# expect:
# ['bind_retry.whoami', 0, [1, 2], {}, True, None, False]
# ok after 2 retries
# bind_retry.doomed KeyError
# bind_retry.no_exc MaxRetriesExceededError
