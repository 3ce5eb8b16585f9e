"""My alerts: each staff user switches their own alert emails on and off (any staff user, no
model permission needed: the page only ever shows and saves the signed-in user's own row)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from integrations.models import AlertKind, AlertPreferences
from integrations.sync import alerts


class MyAlertsForm(forms.ModelForm):
    class Meta:
        model = AlertPreferences
        fields = [kind.value for kind in AlertKind]

    def __init__(self, *args, kinds: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        for name in list(self.fields):
            if name not in kinds:
                del self.fields[name]  # only the alerts this user would receive


@admin.register(AlertPreferences)
class AlertPreferencesAdmin(admin.ModelAdmin):
    """Superusers see everyone's switches in the usual list; everyone else uses My alerts."""

    list_display = ["user", *[kind.value for kind in AlertKind], "updated_at"]
    list_select_related = ["user"]

    def has_module_permission(self, request):
        return False  # reached from the "My alerts" link at the top of every admin page

    def get_urls(self):
        mine = path(
            "mine/",
            self.admin_site.admin_view(self.my_alerts),
            name="integrations_alertpreferences_mine",
        )
        return [mine, *super().get_urls()]

    def my_alerts(self, request):
        user = request.user
        kinds = [
            kind.value for kind in AlertKind if alerts.audience(kind).filter(pk=user.pk).exists()
        ]
        prefs = AlertPreferences.objects.filter(user=user).first() or AlertPreferences(user=user)
        data = request.POST if request.method == "POST" else None  # an all-unticked form is empty
        form = MyAlertsForm(data, instance=prefs, kinds=kinds)
        if request.method == "POST" and form.is_valid():
            alerts.save_alert_preferences(user, **{k: form.cleaned_data[k] for k in kinds})
            self.message_user(request, "Your alert emails are saved.", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:integrations_alertpreferences_mine"))
        context = {
            **self.admin_site.each_context(request),
            "title": "My alerts",
            "form": form,
            "kinds": kinds,
            "email": user.email,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/integrations/my_alerts.html", context)
