"""Forbid overlapping attachment intervals for one ENI, in the database itself.

PostgreSQL: an exclusion constraint over (eni_id, [since, until)) with btree_gist.
SQLite: triggers that abort an insert or update that would overlap.
"""

from django.db import migrations

PG_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    """
    ALTER TABLE inventory_attachment ADD CONSTRAINT attachment_no_overlap_per_eni
    EXCLUDE USING gist (eni_id WITH =, tstzrange(since, until, '[)') WITH &&)
    """,
]
PG_BACKWARD = ["ALTER TABLE inventory_attachment DROP CONSTRAINT attachment_no_overlap_per_eni"]

_SQLITE_CHECK = """
    SELECT RAISE(ABORT, 'attachment_no_overlap_per_eni: interval overlaps another attachment of this ENI')
    WHERE EXISTS (
        SELECT 1 FROM inventory_attachment a
        WHERE a.eni_id = NEW.eni_id AND a.id IS NOT NEW.id
          AND (a.until IS NULL OR a.until > NEW.since)
          AND (NEW.until IS NULL OR NEW.until > a.since)
    );
"""
SQLITE_FORWARD = [
    f"CREATE TRIGGER attachment_no_overlap_insert BEFORE INSERT ON inventory_attachment BEGIN {_SQLITE_CHECK} END",
    f"CREATE TRIGGER attachment_no_overlap_update BEFORE UPDATE ON inventory_attachment BEGIN {_SQLITE_CHECK} END",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS attachment_no_overlap_insert",
    "DROP TRIGGER IF EXISTS attachment_no_overlap_update",
]


def forward(apps, schema_editor):
    statements = PG_FORWARD if schema_editor.connection.vendor == "postgresql" else SQLITE_FORWARD
    for statement in statements:
        schema_editor.execute(statement)


def backward(apps, schema_editor):
    statements = PG_BACKWARD if schema_editor.connection.vendor == "postgresql" else SQLITE_BACKWARD
    for statement in statements:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
