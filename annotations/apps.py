from django.apps import AppConfig


class AnnotationsConfig(AppConfig):
    name = "annotations"

    def ready(self):
        from treaty_app.signals import wording_changed

        from .reanchoring import on_wording_changed

        wording_changed.connect(on_wording_changed, dispatch_uid="annotations.reanchor")
