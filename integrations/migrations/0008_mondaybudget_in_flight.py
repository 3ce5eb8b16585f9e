from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0007_mondayboard_verbose_name_monday_com"),
    ]

    operations = [
        migrations.AddField(
            model_name="mondaybudget",
            name="in_flight",
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
