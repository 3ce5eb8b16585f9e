"""The project package as an app, so its system checks are registered at startup."""

from django.apps import AppConfig


class MlconnectorConfig(AppConfig):
    name = "mlconnector"
    verbose_name = "ml-connector"

    def ready(self):
        from mlconnector import checks  # noqa: F401 - registers the checks

        _name_third_party_apps()


# The admin home lists apps by their verbose names; the libraries' own ("AXES", "OTP_TOTP",
# "DJANGO Q") mean nothing to the people who read that page.
THIRD_PARTY_APP_NAMES = {
    "axes": "Login lockouts",
    "otp_totp": "Authenticator apps (second factor)",
    "django_q": "Background tasks",
}


def _name_third_party_apps() -> None:
    from django.apps import apps

    for label, name in THIRD_PARTY_APP_NAMES.items():
        apps.get_app_config(label).verbose_name = name
