"""Names and numbers of the wire contract (reference Appendix A)."""

from __future__ import annotations

POD_ENI = "vpc.amazonaws.com/pod-eni"  # extended resource and pod annotation
TRUNK_LABEL = "vpc.amazonaws.com/has-trunk-attached"
SGP_FEATURE = "SecurityGroupsForPods"
AUTO_MODE_LABEL = "eks.amazonaws.com/compute-type"
OS_LABELS = ("kubernetes.io/os", "beta.kubernetes.io/os")

TRUNK_DESCRIPTION = "aws-k8s-trunk-eni"
BRANCH_DESCRIPTION = "aws-k8s-branch-eni"
TAG_VLAN_ID = "vpcresources.k8s.aws/vlan-id"
TAG_TRUNK_ENI_ID = "vpcresources.k8s.aws/trunk-eni-id"
TAG_INSTANCE_ID = "node.k8s.amazonaws.com/instance_id"
TAG_OWNER = "eks:eni:owner"
OWNER_VALUE = "eks-vpc-resource-controller"
CLUSTER_TAG_PREFIX = "kubernetes.io/cluster/"

MAX_VLAN_ID = 120  # usable VLAN ids are 1..120 (index 0 reserved)
EVENT_SOURCE = "vpc-resource-controller"
CONTROLLER_VERSION = "sgpadmin-0.1.0"
NODE_NOT_READY_REQUEUE_SECONDS = 1.0
