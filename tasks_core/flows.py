"""Prefect's ``prefect.flows`` module path: ``from tasks_core.flows import flow, Flow``."""

from tasks_core.flow import Flow, FlowState, flow

__all__ = ["Flow", "FlowState", "flow"]
