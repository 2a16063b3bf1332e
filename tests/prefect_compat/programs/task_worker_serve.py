"""A task worker started with serve(...) in one process runs the runs another process sends
with .delay(); Ctrl-C (SIGINT) stops it. Prefect:
docs.prefect.io/v3/how-to-guides/workflows/run-background-tasks (task.serve,
prefect.task_worker.serve)."""
import signal
import subprocess
import sys

from prefect import task
from prefect.task_worker import serve


@task
def add(x, y):
    return x + y


@task
def double(x):
    return 2 * x


if __name__ == "__main__":
    if sys.argv[1:] == ["worker"]:
        serve(add, double)
    else:
        worker = subprocess.Popen([sys.executable, __file__, "worker"],
                                  stdout=subprocess.DEVNULL)
        try:
            print(add.delay(1, 2).result())
            print(double.delay(21).result())
        finally:
            worker.send_signal(signal.SIGINT)
            worker.wait(timeout=60)
        print("stopped")
# expect:
# 3
# 42
# stopped
