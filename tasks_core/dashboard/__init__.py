"""The dashboard: server-rendered pages (Jinja2, autoescaped) at ``/`` of `tasks-core server`.

No build step and no CDN: templates and a little JavaScript and CSS ship inside the package
(``templates/``, ``static/``). Pages read the same stores the API does; live updates come
from the API's server-sent events (``/api/events/stream``). Each page module has a
``router`` and is listed in `tasks_core.dashboard.app.PAGE_MODULES`, which also builds the
navigation bar. With an API key set, pages ask for it once (`session`: a login form, then an
HttpOnly, SameSite=Strict session cookie that the API accepts too); changes made from pages
carry a CSRF token, and the API refuses cross-site writes (`tasks_core.api.auth`).
"""
