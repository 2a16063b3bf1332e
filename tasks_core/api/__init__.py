"""The HTTP API (`tasks-core server`): FastAPI over the same records the CLI reads.

One module per resource, each with an ``APIRouter`` named ``router`` mounted under
``/api`` by `tasks_core.api.app.create_app`: `flow_runs`, `task_runs`, `deployments`,
`work_pools`, `events`, `automations`, `webhooks`. Webhook endpoints (``/hooks/{slug}``)
check their own secrets; every other route asks for the API key when the setting
``api_key`` (TASKS_CORE_API_KEY) is set (`tasks_core.api.auth`). Errors tasks-core raises on
purpose become JSON ``{"detail": ...}`` replies with a fitting status
(`tasks_core.api.errors`). Handlers are plain ``def`` functions: they use the synchronous
stores of `tasks_core.process_runtime`, and FastAPI runs them in its thread pool.
"""
