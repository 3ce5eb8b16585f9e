"""{% connection_health %}: the health panel on the admin index."""

from django import template

from integrations.sync.health import connection_health as selector

register = template.Library()


@register.inclusion_tag("admin/integrations/connection_health.html", takes_context=True)
def connection_health(context):
    request = context.get("request")
    visible = bool(request and request.user.has_perm("integrations.view_exactconnection"))
    return {"health": selector() if visible else None, "request": request}
