"""`make demo`: the whole system on one machine with embedded defaults.

Starts, as child processes: the EC2 stand-in, the Kubernetes emulator, the web app, a
Celery worker and beat (on the serverless broker unless ``REDIS_URL`` is set) and the
cluster watcher. Then it plays the security-groups-for-pods tutorial (sgpadmin.demo.
tutorial) through the REST API and the admission webhook, and — as root — plumbs the pods
with the node agent in network namespaces and runs the tutorial's ``SELECT version()``
from both pods. Ctrl-C stops every process it started; the database under var/ stays.

The stand-ins start empty every run, so the demo refreshes what points at them: the
cluster's endpoints and VPC, the tutorial policy's group ids (both through the API, so the
change log says so), and the cluster's live inventory (rebuilt by the watcher). Policies,
users, tokens, the change log and the attachment history are kept.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
from pathlib import Path

os.environ.setdefault("SGPADMIN_MODE", "demo")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sgpadmin.settings")
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ.setdefault("AWS_ACCESS_KEY_ID", "demo")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "demo")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-west-2")

HOST, PORT = "127.0.0.1", int(os.environ.get("SGPADMIN_DEMO_PORT", "8000"))
PY = sys.executable


def say(message: str) -> None:
    print(f"{'demo':>10} | {message}", flush=True)


def ensure_admin(var_dir: Path) -> tuple[str, str]:
    from django.contrib.auth import get_user_model

    password_file = var_dir / "demo-admin-password"
    if password_file.exists():
        password = password_file.read_text().strip()
    else:
        password = secrets.token_urlsafe(12)
        password_file.write_text(password + "\n")
        password_file.chmod(0o600)
    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(
        username="admin", defaults={"email": "admin@example.com"}
    )
    user.is_staff = user.is_superuser = True
    user.set_password(password)
    user.save()
    return "admin", password


def driver_token() -> str:
    """A fresh write token for the scenario driver (the 'ticketing system' of the demo)."""
    from django.contrib.auth import get_user_model

    from apps.accounts.models import APIToken

    user = get_user_model().objects.get(username="admin")
    _token, secret = APIToken.issue(
        user, write_enabled=True, description="demo scenario driver (one run)"
    )
    return secret


def forget_live_inventory(cluster_name: str) -> None:
    """The stand-ins are new: drop the rows that describe the old ones (not the history)."""
    from apps.core.context import ChangeContext, change_scope
    from apps.inventory.models import (
        BranchENI,
        Cluster,
        Node,
        NodeReport,
        Pod,
        SecurityGroup,
        ServiceAccount,
        TrunkENI,
    )

    cluster = Cluster.objects.filter(name=cluster_name).first()
    if cluster is None:
        return
    with change_scope(context=ChangeContext.WORKER, actor_name="demo", message="demo restart"):
        for model in (BranchENI, TrunkENI, Pod, ServiceAccount, SecurityGroup, NodeReport, Node):
            for row in model.objects.filter(cluster=cluster):
                row.delete()


def read_url(path: Path, group, name: str) -> str:
    from .processes import wait_for

    def ready():
        if group.first_exited() is not None:
            raise RuntimeError(f"a process stopped while starting {name}")
        return path.exists() and path.read_text().strip()

    return wait_for(f"the {name}", ready, timeout=60)


def main() -> int:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from .processes import ProcessGroup
    from .scenario import Scenario

    var_dir = Path(settings.VAR_DIR)
    run_dir = var_dir / "demo"
    run_dir.mkdir(parents=True, exist_ok=True)
    for stale in ("ec2.url", "kube.url"):
        (run_dir / stale).unlink(missing_ok=True)
    call_command("migrate", interactive=False, verbosity=0)
    username, password = ensure_admin(var_dir)
    forget_live_inventory("sgp-cluster")
    metrics_dir = run_dir / "prometheus"  # counters of every process, summed at /metrics
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir()
    child_env = {"PYTHONUNBUFFERED": "1", "SGPADMIN_MODE": "demo",
                 "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}

    with ProcessGroup() as group:
        group.start(
            "ec2",
            [PY, "-m", "standins.ec2", "--port", "0", "--url-file", str(run_dir / "ec2.url")],
            child_env,
        )
        group.start(
            "kube",
            [
                PY,
                "-m",
                "standins.kubernetes",
                "--port",
                "0",
                "--url-file",
                str(run_dir / "kube.url"),
                "--kubeconfig",
                str(run_dir / "kubeconfig"),
            ],
            child_env,
        )
        ec2_url = read_url(run_dir / "ec2.url", group, "EC2 stand-in")
        kube_url = read_url(run_dir / "kube.url", group, "Kubernetes emulator")
        web = f"http://{HOST}:{PORT}"
        group.start(
            "web", [PY, "manage.py", "runserver", f"{HOST}:{PORT}", "--noreload"], child_env
        )
        group.start("worker", [PY, "-m", "worker", "worker", "--concurrency=2"], child_env)
        group.start("beat", [PY, "-m", "worker", "beat"], child_env)
        scenario = Scenario(web, ec2_url, kube_url, run_dir, driver_token(), say)
        try:
            scenario.wait_for_web(group)
            scenario.seed()
            group.start("watcher", [PY, "-m", "worker", "watcher"], child_env)
            scenario.play(group)
        except Exception as exc:
            say(f"the tutorial stopped early: {exc}")
        say(f"open {web}/  (user {username}, password {password})")
        say(
            "look at Policies (my-sg-policy), Nodes (trunk and branch usage), Pods "
            "(postgres-test's branch ENI and why it has its groups) and Audit"
        )
        say("Ctrl-C stops everything; the data stays in var/ for the next run")
        if os.environ.get("SGPADMIN_DEMO_EXIT_WHEN_READY"):
            scenario.close()
            return 0 if scenario.ok else 1
        exited = group.wait()
        if exited is not None:
            say(f"{exited.name} stopped (exit {exited.process.returncode}); stopping the rest")
        scenario.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
