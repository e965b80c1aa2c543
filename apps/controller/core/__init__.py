"""The controller's decisions as pure functions over plain dataclasses.

Nothing here talks to EC2, Kubernetes or the database: :mod:`apps.controller.tasks` loads
state, calls these functions and executes the returned plans through the ports.
"""
