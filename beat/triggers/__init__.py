"""Beat's trigger engine: events in, automations' actions out, each firing's actions once.

    registry.py  the loaded automations: evaluators, the TriggerIndex, deadlines
    chains.py    causal chains of firings (loop detection, `automation_max_chain_depth`)
    firings.py   executing a firing's actions once (claims), the triggered / loop-stopped
                 events
    engine.py    the loop: consumer group -> evaluate -> commit -> execute -> ack
"""
