"""Events: the shape every happening takes on the one Redis stream."""

from tasks_core.events.schema import Event, RelatedResource, Resource

__all__ = ["Event", "RelatedResource", "Resource"]
