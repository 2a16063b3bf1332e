"""Every Redis key tasks-core writes, built in one place.

Layout (prefix `p`, default ``tc``)::

    p:run:<id>                 HASH    a run record (task or flow run), flat fields; its
                                       state history in fields "h1".."h<n>", "hn" = n
                                       (tasks_core/state_history.py); a short result in
                                       field "result" (store/runs.py result_inline)
    p:run:<id>:history         LIST    a run's history as written before 2026-11-30 (no
                                       longer written: read, and moved into the record by
                                       its next transition; it expires with its record)
    p:run:<id>:done            CHANNEL the state name, published once the run is terminal
                                       (waiters subscribe; nothing is stored)
    p:run:<id>:children        ZSET    runs started inside this run, by creation time; the
                                       run's TTL once it ended (like its record)
    p:run:<id>:logs            LIST    JSON log entries, oldest first: {"timestamp", "level",
                                       "logger", "message", "run_id"}; no TTL while the run
                                       has not ended, then the run's (append_logs.lua)
    p:run:<id>:logs:writes     SET     ids of the log writes applied ("<reporter>:<n>"), so
                                       that one sent again is known (append_logs.lua); TTL
                                       one hour from the last
    p:result:<id>              STRING  the JSON result when not kept in the record, with
                                       result_ttl_seconds as TTL
    p:chord:<id>               HASH    a chord's join (canvas_follow.lua): "left" members not
                                       yet Completed, "size", "body" (JSON targets released with
                                       the list of results), "r<i>" member i's result JSON,
                                       "failed" the first member that did not complete; the
                                       run TTL from its first member's end on (none before)
    p:group:<id>               STRING  a saved GroupResult (JSON list of run ids), run TTL
    p:cache:<key>              STRING  a cached task result (JSON), with a TTL
    p:<kind>-runs              ZSET    run ids by creation time (kind: task | flow); ids whose
                                       record expired are pruned by beat's sweeper
                                       (prune_runs.lua)
    p:<kind>-runs:state:<S>    ZSET    run ids currently in state S, by time of entry (by due
                                       time for runs entering Scheduled/AwaitingRetry with one);
                                       terminal ones are pruned by that time and the state's TTL
    p:<kind>-runs:prune-at     STRING  the sweeper's place in p:<kind>-runs (a rank): where its
                                       next pruning batch starts; absent: at the oldest
    p:events                   STREAM  every event, one field ``event`` (its JSON) or, for a
                                       run-state event, ``run`` (its compact array:
                                       tasks_core.run_event_codec); bounded by count
                                       (event_retention) and age (event_retention_seconds)
    p:event:<id>               STRING  "1": an event of this id is on the stream (SET NX, with
                                       the retention age as TTL), so it is stored once
    p:proc:<host>:<pid>        STRING  heartbeat of a worker process, with a TTL
    p:node:<node name>         STRING  the lease on a Celery node name (``name@host``): its
                                       holder's token ``host:pid:random``, with a TTL renewed
                                       by the worker's heartbeat; two live workers never share
                                       a name
    p:nodes                    ZSET    Celery node names of workers, by their last heartbeat
                                       (epoch seconds)
    p:nodes:info               HASH    node name -> JSON of what `tasks-core worker ls` shows
                                       (pools, queues, concurrency, active runs, pid, ...)
    p:lock:<name>              STRING  leader locks (sweeper, beat)
    p:beat:clock               STRING  the latest wall time a beat pass saw (epoch seconds): a
                                       pass that sees an earlier one knows the clock went back
    p:due                      ZSET    runs waiting for their scheduled time (beat sends them)
    p:expiring                 ZSET    runs sent with Celery's ``expires``, by that time (epoch
                                       seconds); beat's sweeper cancels those still queued
    p:rate:<task name>         HASH    a task's rate-limit token bucket: ``tokens``, ``at``
                                       (epoch seconds of the last refill), ``rate`` (a
                                       runtime override, tokens per second; '' = none)
    p:due:wake                 CHANNEL a message when a due time earlier than any other is
                                       added, or a deployment's schedules change (beat wakes)
    p:cancel                   CHANNEL the id of a run asked to stop; the process running it
                                       raises TaskCancelled in its body
    p:schedule-mark:<dep id>   STRING  the last scheduled time created for a deployment
    p:schedules                ZSET    active scheduled deployment ids, by the time beat must
                                       next create runs for them (epoch seconds)
    p:deployment:<id>          STRING  a deployment (JSON)
    p:deployment:<id>:scheduled ZSET   runs beat created for its schedules, by scheduled time
    p:deployments              HASH    flow-name/deployment-name -> deployment id
    p:idem:<dep id>:<key>      STRING  the run created for an idempotency key of a deployment
                                       (SET NX, with the longer run TTL plus the wait for the
                                       run's scheduled time); scheduled runs use the key
                                       ``schedule:<ISO time>``
    p:automation:<id>          STRING  an automation (JSON, tasks_core.automations.Automation)
    p:automations              HASH    automation name -> id (names are unique)
    p:automations:owned:<dep id> SET   ids of the automations a deployment owns (its triggers)
    p:automations:changes      CHANNEL a JSON message per automation created, updated or
                                       deleted: {"op", "id", "name", "enabled",
                                       "owner_deployment_id"} (the trigger engine reloads it)
    p:engine:group             (name)  the trigger engine's consumer group on p:events
    p:engine:state             HASH    automation id -> JSON {"trigger": <fingerprint>,
                                       "state": <evaluator to_state()>}
    p:engine:evaluated         ZSET    stream entry ids evaluated (committed) but not acked yet,
                                       by their millisecond time: a reclaimed one is only acked
    p:engine:pending           HASH    "<automation id>:<firing id>" -> JSON of a firing whose
                                       actions are not all done yet (written with the state)
    p:engine:action:<key>      STRING  "started" | "done" | "failed: ..." for one action of a
                                       firing (key ``<automation id>:<firing id>:<index>``),
                                       SET NX, with the run TTL
    p:engine:firing:<id>       STRING  JSON {"automation_id", "depth", "chain"} of a firing
                                       (loop detection), with the run TTL
    p:automation:<id>:loop-stop STRING JSON of the last loop-stopped event of an automation
    p:work-pools               SET     names of the work pools that have records
    p:work-pool:<name>         STRING  a work pool (JSON); none: the pool is open, no limit
    p:work-pool:<name>:running SET     its flow runs holding a slot (passed the gate)
    p:work-pool:<name>:parked  ZSET    its flow runs waiting for a slot or a resume, by time
    p:work-pool:<name>:workers ZSET    its workers, by their last heartbeat (epoch seconds)
    p:work-pool:<name>:ready   STRING  "1" / "0": readiness last reported (ready event sent)
    p:demo:<name>              STRING  a counter of the demo's tasks (INCR)
    p:celery-result:<key>      STRING  Celery's own result of a plain Celery task on the app
                                       (``celery.ping``; tasks-core runs keep theirs in
                                       p:result), with result_expires as TTL
    p:webhook:<id>             STRING  a webhook (JSON, with its secret: never shown but by
                                       create and rotate-secret)
    p:webhooks                 HASH    webhook name -> id (names are unique)
    p:webhooks:slugs           HASH    webhook slug (its URL /hooks/<slug>) -> id
    p:webhook:<id>:rate:<n>    STRING  requests taken in fixed window n (epoch seconds //
                                       window), with the window as TTL
    p:webhook:<id>:seen:<msg>  STRING  "1": a Standard Webhooks message id accepted (SET NX,
                                       TTL the replay window), so a replay is refused
    p:variables                HASH    variable name -> JSON {"name", "value", "tags", "created",
                                       "updated"} (`tasks_core.variables.Variable`)
    p:concurrency-limits       SET     names of the concurrency limits (tasks_core.concurrency)
    p:concurrency-limit:<name> HASH    a limit: name, limit, slot_decay_per_second,
                                       active_slots (a float: decay is continuous),
                                       settled_ms (Redis time of the last settle),
                                       denied_slots, created; task tag limits are named
                                       ``tag:<tag>``
    p:concurrency-limit:<name>:leases  ZSET  lease id -> expiry (Redis time, ms)
    p:concurrency-limit:<name>:holders HASH  lease id -> "<slots>|<taken at ms>"
    p:deadletter               HASH    set-aside messages: entry id -> JSON entry (see
                                       tasks_core.messages.DeadLetter)
    p:deadletter:by-time       ZSET    dead-letter entry ids, by when they were set aside
    p:metrics:durations        HASH    run duration histogram (`/metrics`), counted by
                                       transition.lua when a run that started ends:
                                       "<kind>|<pool>|<state>|<bucket index>" -> runs (not
                                       cumulative; their sum is the count),
                                       "<kind>|<pool>|<state>|us" -> the durations' sum (µs)
    p:metrics:firings          HASH    automation id -> firings executed (trigger engine)
    p:metrics:action-failures  HASH    "<automation id>|<action type>" -> actions that failed
                                       for good (trigger engine)
    p:artifact:<id>            STRING  an artifact (JSON, tasks_core.artifact_records.Artifact),
                                       with the run TTL (run_ttl_seconds), set again on update
    p:artifacts                ZSET    artifact ids by creation time (epoch seconds); ids whose
                                       record expired are dropped when a listing meets them
    p:artifacts:key:<key>      ZSET    the versions of a keyed artifact (ids), by creation time
    p:artifacts:run:<run id>   ZSET    the artifacts a task or flow run created, by creation time
    p:pause:<run id>           STRING  the open pause of a flow run (JSON, tasks_core.pausing:
                                       key, input schema, deadline, suspend), until resumed
                                       or expired
    p:pause:<run id>:input     LIST    the input of a resume, pushed for the paused process
                                       (BLPOP: its push wait), with the run TTL
    p:pause:<run id>:resumed   HASH    pause key -> input JSON of the run's resumed pauses (a
                                       suspended flow's rerun passes them); no TTL until the
                                       run ends, then the run's
    p:pauses                   ZSET    flow run ids with an open pause, by its deadline (epoch
                                       seconds): beat's sweeper fails those past it

Broker keys are kombu's, under the prefix ``p:q:`` (`Keys.broker_prefix`, kombu's Redis
transport option ``global_keyprefix``, set by `celery_app.create_app`), so two stacks with
different prefixes on one Redis never share a queue, an ``unacked`` hash or a pub/sub
channel; no key of tasks-core's own starts with ``p:q:``::

    p:q:<queue>                LIST    messages of priority 0-2 (kombu's Redis transport)
    p:q:<queue><sep><step>     LIST    messages of priority 3-5, 6-8, 9 (step 3, 6, 9; <sep> is
                                       kombu's `Channel.sep`, "\\x06\\x16")
    p:q:unacked, p:q:unacked_index, p:q:unacked_mutex, p:q:_kombu.binding.<exchange>, ...
                                       kombu's own bookkeeping
    p:q:/<db>.<exchange>...    CHANNEL kombu's fanout (Celery events, remote control)

`Keys.broker_queue(queue, priority)` names the list of a message (kombu names it
``queue<sep>step`` and prefixes it itself: `kombu_queue` is that unprefixed name); a
queue's depth is the sum over all of them (`Keys.broker_queues`).
"""

from __future__ import annotations

from bisect import bisect
from dataclasses import dataclass

from kombu.transport.redis import PRIORITY_STEPS, Channel

__all__ = ["BROKER_SEGMENT", "Keys", "kombu_queue"]

_SEP: str = Channel.sep
_STEPS: tuple[int, ...] = tuple(PRIORITY_STEPS)

BROKER_SEGMENT = "q"
"""The key segment after the prefix that holds every broker key (``p:q:...``)."""


def kombu_queue(queue: str, priority: int = 0) -> str:
    """The list kombu's Redis transport names for a message of `priority` (0-9) on `queue`,
    before its ``global_keyprefix``.

    Priorities are rounded down to kombu's steps (0, 3, 6, 9); step 0 is the queue's own list.
    """
    step = _STEPS[bisect(_STEPS, max(0, min(9, priority))) - 1]
    return f"{queue}{_SEP}{step}" if step else queue


@dataclass(frozen=True)
class Keys:
    """Key builder bound to one prefix."""

    prefix: str = "tc"

    def run(self, run_id: str) -> str:
        return f"{self.prefix}:run:{run_id}"

    def legacy_history(self, run_id: str) -> str:
        """A run's history list as written before the history moved into its record
        (tasks_core/state_history.py): read when a record has no ``hn``, and moved into it
        by the record's next transition (history_fields.lua)."""
        return f"{self.prefix}:run:{run_id}:history"

    def done(self, run_id: str) -> str:
        """The pub/sub channel told when the run becomes terminal (no key is stored)."""
        return f"{self.prefix}:run:{run_id}:done"

    def children(self, run_id: str) -> str:
        return f"{self.prefix}:run:{run_id}:children"

    def logs(self, run_id: str) -> str:
        """The run's log entries (`get_run_logger()`, `log_prints`)."""
        return f"{self.prefix}:run:{run_id}:logs"

    def log_writes(self, run_id: str) -> str:
        """The ids of the run's log writes applied lately (append_logs.lua)."""
        return f"{self.prefix}:run:{run_id}:logs:writes"

    def cache(self, key: str) -> str:
        """A cached task result (see tasks_core.engine.caching)."""
        return f"{self.prefix}:cache:{key}"

    def result(self, run_id: str) -> str:
        return f"{self.prefix}:result:{run_id}"

    def chord(self, chord_id: str) -> str:
        """HASH: the join of a chord's header (see the layout)."""
        return f"{self.prefix}:chord:{chord_id}"

    def group(self, group_id: str) -> str:
        """STRING: a saved GroupResult's run ids (JSON list)."""
        return f"{self.prefix}:group:{group_id}"

    def runs(self, kind: str) -> str:
        return f"{self.prefix}:{kind}-runs"

    def state_index_prefix(self, kind: str) -> str:
        """Prefix of the per-state index; the state name is appended (see `state_index`)."""
        return f"{self.prefix}:{kind}-runs:state:"

    def state_index(self, kind: str, state: str) -> str:
        return f"{self.state_index_prefix(kind)}{state}"

    def prune_cursor(self, kind: str) -> str:
        """STRING: the rank in `runs(kind)` where the sweeper's next pruning batch starts."""
        return f"{self.prefix}:{kind}-runs:prune-at"

    @property
    def events(self) -> str:
        """The event stream (every event, run-state and emitted)."""
        return f"{self.prefix}:events"

    def event_seen(self, event_id: str) -> str:
        """The mark that an event of this id is on the stream (dedup by id)."""
        return f"{self.prefix}:event:{event_id}"

    def proc(self, owner: str) -> str:
        """Heartbeat key of one worker process; `owner` is ``host:pid``."""
        return f"{self.prefix}:proc:{owner}"

    def deployment(self, deployment_id: str) -> str:
        return f"{self.prefix}:deployment:{deployment_id}"

    @property
    def deployment_names(self) -> str:
        """HASH of `flow/name` -> deployment id."""
        return f"{self.prefix}:deployments"

    def idempotency(self, deployment_id: str, key: str) -> str:
        """The run created for an idempotency key of a deployment (SET NX)."""
        return f"{self.prefix}:idem:{deployment_id}:{key}"

    @property
    def due(self) -> str:
        """ZSET of runs waiting for their scheduled time (score: due epoch seconds)."""
        return f"{self.prefix}:due"

    @property
    def expiring(self) -> str:
        """ZSET of runs with an expiry time (score: expiry epoch seconds)."""
        return f"{self.prefix}:expiring"

    def rate_bucket(self, task_name: str) -> str:
        """HASH: the token bucket of a task's ``rate_limit`` (shared by all workers)."""
        return f"{self.prefix}:rate:{task_name}"

    @property
    def due_wake(self) -> str:
        """Pub/sub channel that wakes beat before its next planned look."""
        return f"{self.prefix}:due:wake"

    @property
    def cancel_channel(self) -> str:
        """Pub/sub channel carrying the ids of runs asked to stop (`cancel_run`)."""
        return f"{self.prefix}:cancel"

    @property
    def schedules(self) -> str:
        """ZSET of active scheduled deployment ids, by when beat must next look at them."""
        return f"{self.prefix}:schedules"

    def deployment_scheduled(self, deployment_id: str) -> str:
        """ZSET of the runs beat created for a deployment's schedules, by scheduled time."""
        return f"{self.prefix}:deployment:{deployment_id}:scheduled"

    def schedule_mark(self, deployment_id: str) -> str:
        """The latest scheduled time beat has created runs up to, for a deployment."""
        return f"{self.prefix}:schedule-mark:{deployment_id}"

    @property
    def beat_clock(self) -> str:
        """The latest wall time (epoch seconds) a beat scheduler pass saw."""
        return f"{self.prefix}:beat:clock"

    def lock(self, name: str) -> str:
        return f"{self.prefix}:lock:{name}"

    @property
    def proc_pattern(self) -> str:
        """SCAN pattern of every worker process heartbeat key."""
        return f"{self.prefix}:proc:*"

    # -- worker nodes (Celery node names, `tasks-core worker ls`) --------------------------

    def node_lease(self, node: str) -> str:
        """The lease on the Celery node name `node` (``name@host``)."""
        return f"{self.prefix}:node:{node}"

    @property
    def nodes(self) -> str:
        """ZSET of workers' node names, by their last heartbeat (epoch seconds)."""
        return f"{self.prefix}:nodes"

    @property
    def nodes_info(self) -> str:
        """HASH of node name -> the worker's description (JSON)."""
        return f"{self.prefix}:nodes:info"

    # -- automations ----------------------------------------------------------------------

    def automation(self, automation_id: str) -> str:
        """An automation record (JSON)."""
        return f"{self.prefix}:automation:{automation_id}"

    @property
    def automation_names(self) -> str:
        """HASH of automation name -> id."""
        return f"{self.prefix}:automations"

    def automations_owned(self, deployment_id: str) -> str:
        """SET of the ids of the automations a deployment owns."""
        return f"{self.prefix}:automations:owned:{deployment_id}"

    @property
    def automation_changes(self) -> str:
        """Pub/sub channel: one JSON message per automation created, updated or deleted."""
        return f"{self.prefix}:automations:changes"

    # -- the trigger engine ---------------------------------------------------------------

    @property
    def engine_group(self) -> str:
        """Name of the trigger engine's consumer group on the event stream."""
        return f"{self.prefix}:engine:group"

    @property
    def engine_state(self) -> str:
        """HASH of automation id -> JSON evaluator state."""
        return f"{self.prefix}:engine:state"

    @property
    def engine_evaluated(self) -> str:
        """ZSET of stream entry ids evaluated but not acknowledged yet."""
        return f"{self.prefix}:engine:evaluated"

    @property
    def engine_pending(self) -> str:
        """HASH of firings whose actions are not all done yet."""
        return f"{self.prefix}:engine:pending"

    def engine_action(self, key: str) -> str:
        """STRING: the claim and outcome of one action of one firing."""
        return f"{self.prefix}:engine:action:{key}"

    def engine_firing(self, firing_id: str) -> str:
        """STRING: a firing's causal chain (JSON), for loop detection."""
        return f"{self.prefix}:engine:firing:{firing_id}"

    def automation_loop_stop(self, automation_id: str) -> str:
        """STRING: the last loop-stopped event of an automation (JSON)."""
        return f"{self.prefix}:automation:{automation_id}:loop-stop"

    # -- work pools -----------------------------------------------------------------------

    @property
    def work_pools(self) -> str:
        """SET of the names of work pools that have records."""
        return f"{self.prefix}:work-pools"

    def work_pool(self, name: str) -> str:
        """A work pool record (JSON)."""
        return f"{self.prefix}:work-pool:{name}"

    def work_pool_running(self, name: str) -> str:
        """SET of the pool's flow runs that hold a slot."""
        return f"{self.work_pool(name)}:running"

    def work_pool_parked(self, name: str) -> str:
        """ZSET of the pool's parked flow runs, by the time they were parked."""
        return f"{self.work_pool(name)}:parked"

    def work_pool_workers(self, name: str) -> str:
        """ZSET of the pool's workers, by their last heartbeat (epoch seconds)."""
        return f"{self.work_pool(name)}:workers"

    def work_pool_ready(self, name: str) -> str:
        """The pool's last reported readiness ("1" or "0")."""
        return f"{self.work_pool(name)}:ready"

    @property
    def work_pool_workers_pattern(self) -> str:
        """SCAN pattern of every pool's workers key (see `pool_of_workers_key`)."""
        return self.work_pool_workers("*")

    def pool_of_workers_key(self, key: str) -> str:
        """The pool name in a key made by `work_pool_workers`."""
        return key[len(self.work_pool("")):-len(":workers")]

    # -- webhooks -------------------------------------------------------------------------

    def webhook(self, webhook_id: str) -> str:
        """A webhook record (JSON, with its secret)."""
        return f"{self.prefix}:webhook:{webhook_id}"

    @property
    def webhook_names(self) -> str:
        """HASH of webhook name -> id."""
        return f"{self.prefix}:webhooks"

    @property
    def webhook_slugs(self) -> str:
        """HASH of webhook slug -> id."""
        return f"{self.prefix}:webhooks:slugs"

    def webhook_rate(self, webhook_id: str, window: int) -> str:
        """STRING: requests a webhook took in fixed window number `window`."""
        return f"{self.webhook(webhook_id)}:rate:{window}"

    def webhook_seen(self, webhook_id: str, message_id: str) -> str:
        """STRING: a Standard Webhooks message id this webhook accepted (replays refused)."""
        return f"{self.webhook(webhook_id)}:seen:{message_id}"

    # -- the demo -------------------------------------------------------------------------

    def demo_counter(self, name: str) -> str:
        """A counter of the demo's tasks (`flaky_fetch` counts its attempts)."""
        return f"{self.prefix}:demo:{name}"

    # -- the broker (kombu's keys, under `broker_prefix`) ----------------------------------

    @property
    def broker_prefix(self) -> str:
        """kombu's ``global_keyprefix`` for this prefix: every broker key starts with it."""
        return f"{self.prefix}:{BROKER_SEGMENT}:"

    def broker_queue(self, queue: str, priority: int = 0) -> str:
        """The Redis list a message of `priority` (0-9) for `queue` is pushed onto."""
        return self.broker_prefix + kombu_queue(queue, priority)

    def broker_queues(self, queue: str) -> tuple[str, ...]:
        """Every list that holds messages of `queue`: its own, then one per priority step."""
        return tuple(self.broker_queue(queue, step) for step in _STEPS)

    # -- variables (tasks_core.variables) -------------------------------------------------

    @property
    def variables(self) -> str:
        """HASH of variable name -> its JSON record."""
        return f"{self.prefix}:variables"

    # -- concurrency limits (tasks_core.concurrency) ----------------------------------------

    @property
    def concurrency_limits(self) -> str:
        """SET of every concurrency limit's name."""
        return f"{self.prefix}:concurrency-limits"

    def concurrency_limit(self, name: str) -> str:
        """HASH: a concurrency limit's record."""
        return f"{self.prefix}:concurrency-limit:{name}"

    def concurrency_leases(self, name: str) -> str:
        """ZSET: a limit's lease ids by expiry (Redis time, ms)."""
        return f"{self.concurrency_limit(name)}:leases"

    def concurrency_holders(self, name: str) -> str:
        """HASH: a limit's lease id -> ``<slots>|<taken at ms>``."""
        return f"{self.concurrency_limit(name)}:holders"

    # -- dead letters ---------------------------------------------------------------------

    @property
    def deadletters(self) -> str:
        """HASH of set-aside messages: entry id -> JSON entry."""
        return f"{self.prefix}:deadletter"

    @property
    def deadletters_by_time(self) -> str:
        """ZSET of dead-letter entry ids, by when they were set aside (epoch seconds)."""
        return f"{self.prefix}:deadletter:by-time"

    # -- metrics (`/metrics`, tasks_core.store.metrics) ------------------------------------

    @property
    def metrics_durations(self) -> str:
        """HASH: the run duration histogram's bucket counts, sums and counts."""
        return f"{self.prefix}:metrics:durations"

    @property
    def metrics_firings(self) -> str:
        """HASH: automation id -> firings executed."""
        return f"{self.prefix}:metrics:firings"

    @property
    def metrics_action_failures(self) -> str:
        """HASH: ``<automation id>|<action type>`` -> actions that failed for good."""
        return f"{self.prefix}:metrics:action-failures"

    # -- artifacts (tasks_core.store.artifacts) -------------------------------------------

    def artifact(self, artifact_id: str) -> str:
        """STRING: one artifact's JSON."""
        return f"{self.prefix}:artifact:{artifact_id}"

    @property
    def artifacts(self) -> str:
        """ZSET of every artifact id, by creation time (epoch seconds)."""
        return f"{self.prefix}:artifacts"

    def artifact_versions(self, key: str) -> str:
        """ZSET of the ids of the versions of the artifact `key`, by creation time."""
        return f"{self.prefix}:artifacts:key:{key}"

    def run_artifacts(self, run_id: str) -> str:
        """ZSET of the ids of the artifacts run `run_id` created, by creation time."""
        return f"{self.prefix}:artifacts:run:{run_id}"

    # -- pauses (tasks_core.store.pauses) -------------------------------------------------

    def pause(self, run_id: str) -> str:
        """STRING: the open pause of flow run `run_id` (JSON)."""
        return f"{self.prefix}:pause:{run_id}"

    def pause_input(self, run_id: str) -> str:
        """LIST: the input a resume pushes to the paused process."""
        return f"{self.prefix}:pause:{run_id}:input"

    def pause_taken(self, run_id: str) -> str:
        """STRING: who took the run's last pause, and the pause (pause_take.lua), briefly."""
        return f"{self.prefix}:pause:{run_id}:taken"

    def pause_resumed(self, run_id: str) -> str:
        """HASH: pause key -> input JSON of the run's resumed pauses."""
        return f"{self.prefix}:pause:{run_id}:resumed"

    @property
    def pauses(self) -> str:
        """ZSET: flow run ids with an open pause, by its deadline (epoch seconds)."""
        return f"{self.prefix}:pauses"

    # -- Celery's result backend (tasks_core.store.celery_results) ------------------------

    def celery_result(self, key: str) -> str:
        """STRING: Celery's key-value backend entry `key` (``celery-task-meta-<id>``, ...)."""
        return f"{self.prefix}:celery-result:{key}"
