"""Pure step functions ``(drive, state, params, config) -> (spikes, state)``."""
