from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0008_alert_preferences"),
    ]

    operations = [
        migrations.AddField(
            model_name="mondaybudget",
            name="in_flight",
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
