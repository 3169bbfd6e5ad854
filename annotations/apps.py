from django.apps import AppConfig


class AnnotationsConfig(AppConfig):
    name = "annotations"

    def ready(self):
        from treaty_app import versioning
        from treaty_app.signals import wording_changed

        from .models import Tag
        from .reanchoring import on_wording_changed

        wording_changed.connect(on_wording_changed, dispatch_uid="annotations.reanchor")
        # Tag names and colours show on every page that shows a tagged annotation.
        versioning.watch(Tag, lambda tag: [versioning.SHARED])
