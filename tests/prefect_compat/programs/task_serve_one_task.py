"""task.serve() starts a task worker for one task; a background run sent with .delay() from
another process completes there; Ctrl-C (SIGINT) stops it. Prefect:
docs.prefect.io/v3/how-to-guides/workflows/run-background-tasks ("my_task.serve()")."""
import signal
import subprocess
import sys

from prefect import task


@task
def greet(name):
    return f"hello {name}"


if __name__ == "__main__":
    if sys.argv[1:] == ["worker"]:
        greet.serve()
    else:
        worker = subprocess.Popen([sys.executable, __file__, "worker"],
                                  stdout=subprocess.DEVNULL)
        try:
            future = greet.delay("marvin")
            print(future.result())
        finally:
            worker.send_signal(signal.SIGINT)
            worker.wait(timeout=60)
        print("stopped")
# expect:
# hello marvin
# stopped
