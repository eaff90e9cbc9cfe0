"""Training rules and tasks for the torch mirror."""
