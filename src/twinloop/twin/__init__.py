"""Digital twins: calibrated models of one vehicle or one component, with state estimation."""

__all__: list[str] = []
