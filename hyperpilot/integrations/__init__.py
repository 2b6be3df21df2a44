"""HyperPilot where users already are: Optuna (``integrations.optuna``), rl-baselines3-zoo's
tuner (``integrations.rlzoo``) and experiment trackers (``integrations.trackers``).

Each submodule imports its third-party package when it is imported, never before, so
``import hyperpilot`` stays fast and the packages stay optional extras.
"""
