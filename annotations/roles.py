"""The two roles and what each may do; the groups are made by a data migration from this table."""

ANALYSTS = "Analysts"
CURATORS = "Curators"

ROLE_PERMISSIONS = {
    ANALYSTS: {
        "annotations": ["view_annotation", "add_annotation", "change_annotation", "delete_annotation",
                        "view_tag", "add_tag", "view_assessmentfield", "view_assessmentvalue"],
        "treaty_app": ["view_treaty", "view_provision", "view_source", "view_excerpt", "view_excerptlink",
                       "view_quotedpassage", "view_languageversion"],
    },
    CURATORS: {
        "annotations": ["view_annotation", "add_annotation", "change_annotation", "delete_annotation",
                        "hide_annotation", "publish_annotation",
                        "view_tag", "add_tag", "change_tag", "delete_tag",
                        # Curators define the assessment scheme.
                        "view_assessmentfield", "add_assessmentfield", "change_assessmentfield",
                        "view_assessmentvalue", "add_assessmentvalue", "change_assessmentvalue"],
        # Curators add a second treaty and its provisions (the 1961 treaty beside the 2024 one).
        "treaty_app": ["view_treaty", "add_treaty", "change_treaty",
                       "view_provision", "add_provision", "change_provision",
                       "view_crossreference", "add_crossreference", "change_crossreference",
                       "delete_crossreference",
                       "view_source", "change_source",
                       "view_excerpt", "add_excerpt", "change_excerpt",
                       "view_excerptlink", "add_excerptlink", "change_excerptlink", "delete_excerptlink",
                       "view_quotedpassage", "change_quotedpassage",
                       # Language versions: imported, corrected, given a status and a source.
                       "view_languageversion", "add_languageversion", "change_languageversion"],
    },
}


def grant_role_permissions(group_model, permission_model, *, strict=True):
    """Create the groups (if missing) and give each exactly the permissions in ROLE_PERMISSIONS.

    An early migration runs this before later migrations have made some models: it passes
    `strict=False` to grant what exists (each later migration that adds a model grants again)."""
    for role, by_app in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=role)
        permissions = []
        for app_label, codenames in by_app.items():
            found = list(permission_model.objects.filter(content_type__app_label=app_label, codename__in=codenames))
            missing = set(codenames) - {p.codename for p in found}
            if missing and strict:
                raise RuntimeError(f"{role}: permissions {sorted(missing)} of {app_label} do not exist.")
            permissions += found
        group.permissions.set(permissions)


def regrant_roles(apps, schema_editor):
    """A data migration's step: make the permissions the migrations so far have models for (Django
    makes them only after all migrations), then grant the roles what exists. Each migration that adds
    a model a role needs runs it again."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    grant_role_permissions(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"), strict=False)
