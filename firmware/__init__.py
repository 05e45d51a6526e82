"""The pievse controller: control loop, safety supervisor, limits, persistence, API, CLI."""
