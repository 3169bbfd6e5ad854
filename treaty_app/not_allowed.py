"""A 405 that says in words what the address takes: Django's own has an empty body.

A person meets one by opening the address of a form's button (``…/submit/``) in a new tab, or by
sending a form to a page that only shows things; an empty page tells them nothing.
"""

from django.template.loader import render_to_string


def method_not_allowed(get_response):
    def middleware(request):
        response = get_response(request)
        if response.status_code == 405 and not response.content:
            allowed = [method.strip() for method in response.get("Allow", "").split(",") if method.strip()]
            response.content = render_to_string(
                "405.html", {"method": request.method, "allowed": allowed}, request=request
            )
            response["Content-Type"] = "text/html; charset=utf-8"
        return response

    return middleware
