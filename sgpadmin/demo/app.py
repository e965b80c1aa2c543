"""`make demo`: the whole system on one machine with embedded defaults.

Migrates the SQLite database under var/, makes sure an admin user exists (its password is
kept in var/demo-admin-password so a second run shows the same one), and serves the app on
http://127.0.0.1:8000. Ctrl-C stops it; the data stays for the next run.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

os.environ.setdefault("SGPADMIN_MODE", "demo")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sgpadmin.settings")
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

HOST, PORT = "127.0.0.1", int(os.environ.get("SGPADMIN_DEMO_PORT", "8000"))


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
    user, _ = user_model.objects.get_or_create(username="admin", defaults={"email": "admin@example.com"})
    user.is_staff = user.is_superuser = True
    user.set_password(password)
    user.save()
    return "admin", password


def main() -> int:
    import django
    from django.conf import settings
    from django.core.management import call_command

    settings_dir = Path(os.environ.get("SGPADMIN_VAR_DIR", Path(__file__).resolve().parent.parent / "var"))
    settings_dir.mkdir(parents=True, exist_ok=True)
    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    username, password = ensure_admin(Path(settings.VAR_DIR))
    print(f"sgpadmin demo: http://{HOST}:{PORT}/  (user {username}, password {password})", flush=True)
    print("Ctrl-C stops it; data is kept in var/.", flush=True)
    try:
        call_command("runserver", f"{HOST}:{PORT}", use_reloader=False)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
