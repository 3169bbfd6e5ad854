from django.urls import path

from . import placing, token_views, views

app_name = "annotations"

urlpatterns = [
    path("", views.home, name="home"),
    path("tokens/", token_views.token_list, name="tokens"),
    path("tokens/<int:pk>/revoke/", token_views.token_revoke, name="token-revoke"),
    path("annotations/<int:pk>/edit/", views.annotation_edit, name="edit"),
    path("annotations/<int:pk>/reply/", views.annotation_reply, name="reply"),
    path("annotations/<int:pk>/delete/", views.annotation_delete, name="delete"),
    path("annotations/<int:pk>/restore/", views.annotation_restore, name="restore"),
    path("annotations/<int:pk>/hide/", views.annotation_hide, name="hide"),
    path("annotations/<int:pk>/submit/", views.annotation_submit, name="submit"),
    path("annotations/<int:pk>/place/", placing.annotation_place, name="place"),
    path("<slug:treaty_slug>/<slug:provision_slug>/", views.workspace, name="workspace"),
    path("<slug:treaty_slug>/<slug:provision_slug>/annotations/", views.annotation_create, name="create"),
]
