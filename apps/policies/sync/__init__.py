"""Keep every governed policy in its cluster as a real SecurityGroupPolicy object.

:mod:`.plan` decides (pure); :mod:`.apply` talks to the cluster and the database.
"""
