"""Thin adapters to the outside world: EC2 (boto3) and the cluster (kubernetes client).

They translate calls and answers and count them; they decide nothing.
"""
