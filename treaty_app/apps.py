from django.apps import AppConfig


class TreatyAppConfig(AppConfig):
    name = "treaty_app"
    verbose_name = "Treaty corpus"

    def ready(self):
        from . import versioning

        versioning.connect()
