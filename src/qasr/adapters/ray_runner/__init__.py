"""Running work on a Ray cluster (the `ray` extra): an actor pool fed a stream of groups."""

from qasr.adapters.ray_runner.pool import RayActorPool, check_address, import_ray

__all__ = ["RayActorPool", "check_address", "import_ray"]
