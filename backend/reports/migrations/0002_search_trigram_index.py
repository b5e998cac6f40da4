"""Trigram index for Chinese substring search of reports (PostgreSQL only).

``search_text LIKE '%骨转移%'`` is answered from a pg_trgm GIN index. On SQLite (the embedded
default) both operations do nothing and search scans, which is fine at a single site's size.
"""

from django.db import migrations


def _is_postgres(schema_editor) -> bool:
    return schema_editor.connection.vendor == "postgresql"


def forwards(apps, schema_editor):
    if _is_postgres(schema_editor):
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS reports_report_search_trgm "
            "ON reports_report USING gin (search_text gin_trgm_ops)"
        )


def backwards(apps, schema_editor):
    if _is_postgres(schema_editor):
        schema_editor.execute("DROP INDEX IF EXISTS reports_report_search_trgm")


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
