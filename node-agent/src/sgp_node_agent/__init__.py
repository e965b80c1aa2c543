"""sgpadmin node agent: plumbs branch-ENI ("security groups for pods") pods on a node.

Kept import-free on purpose: ``sgp-cni`` is started once per CNI call, so importing this
package must not pull in pyroute2 or the kubernetes client.
"""

__version__ = "0.1.0"
