"""Running a Celery task's body in the test process as a worker would (its retries visible to the test)."""


def run_as_worker_would(task, *args, retries=0):
    """Run the task body under a request context, as a worker does, returning what it returns or raises.

    ``is_eager`` makes ``Task.retry`` raise its Retry (carrying the countdown in
    ``when``) instead of publishing a new message to the broker.
    """
    task.push_request(
        id="test-task-id", args=list(args), kwargs={}, retries=retries, is_eager=True, called_directly=False
    )
    try:
        return task.run(*args)
    finally:
        task.pop_request()
