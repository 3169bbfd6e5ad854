from django.apps import AppConfig
from django.core.signals import request_finished, request_started
from django.db.models.signals import post_delete, post_save, pre_save


def _no_history_for_fixture_rows(sender, instance, raw=False, **kwargs):
    """loaddata saves rows raw and then sets their many-to-many fields (raw too). simple_history
    skips raw saves but not those m2m changes: each annotation with tags got a new history record
    at load time, on top of the fixture's own, and on PostgreSQL (where the sequence does not know
    the fixture's explicit ids) that record took an id the fixture already holds: IntegrityError
    on annotations_historicalannotation_pkey. A fixture brings its history with it."""
    if raw:
        instance.skip_history_when_saving = True


class AnnotationsConfig(AppConfig):
    name = "annotations"

    def ready(self):
        from treaty_app import versioning
        from treaty_app.signals import wording_changed

        from . import assessments, stored_tags
        from .models import Annotation, AssessmentField, AssessmentValue, Tag
        from .reanchoring import on_wording_changed

        wording_changed.connect(on_wording_changed, dispatch_uid="annotations.reanchor")
        stored_tags.connect()
        pre_save.connect(_no_history_for_fixture_rows, sender=Annotation, dispatch_uid="annotations.fixture-history")
        # Tag names and colours show on every page that shows a tagged annotation.
        versioning.watch(Tag, lambda tag: [versioning.SHARED])
        # The scheme's labels show on every published assessment.
        versioning.watch(AssessmentField, lambda field: [versioning.SHARED])
        versioning.watch(AssessmentValue, lambda value: [versioning.SHARED])
        request_started.connect(assessments.start_request_memo, dispatch_uid="annotations.scheme-memo-start")
        request_finished.connect(assessments.end_request_memo, dispatch_uid="annotations.scheme-memo-end")
        for model in (AssessmentField, AssessmentValue):
            for name, signal in (("save", post_save), ("delete", post_delete)):
                signal.connect(assessments.forget_scheme, sender=model,
                               dispatch_uid=f"annotations.scheme-memo.{model.__name__}.{name}")
