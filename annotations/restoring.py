"""What a curators' backup carries besides its annotations, put back: the people and the tag vocabulary.

* **People** (``glossa:people``). An account that is not here is created with its names, email,
  roles (the groups of those names), staff and active flags, and no usable password: the file
  never holds passwords, so each person gets one from an administrator
  (``python manage.py changepassword NAME``). Superuser status is not carried either. An account
  that is here is left as it is; each way it differs from the file is reported.
* **Tags** (``glossa:tags``). A tag that is not here (by slug) is created with its name, colour,
  description and parent; one that is here is left as it is, and each difference is reported.

`w3c_import.import_annotations` calls both, in its transaction, before it reads the annotations.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from .models import Tag
from .w3c_reader import W3CImportError


def restore_people(people, report):
    """Create the accounts of `people` (w3c_reader.Person) that are not here."""
    User = get_user_model()
    here = {user.username: user for user in User.objects.filter(
        username__in=[person.username for person in people]).prefetch_related("groups")}
    groups = {group.name: group for group in Group.objects.all()}
    for person in people:
        wanted = {
            "first name": person.first_name, "last name": person.last_name, "email": person.email,
            "staff": person.staff, "active": person.active, "roles": sorted(person.roles),
        }
        user = here.get(person.username)
        if user is not None:
            now = {
                "first name": user.first_name, "last name": user.last_name, "email": user.email,
                "staff": user.is_staff, "active": user.is_active,
                "roles": sorted(group.name for group in user.groups.all()),
            }
            report.people_differences += [
                (person.username, what, now[what], wanted[what]) for what in wanted if now[what] != wanted[what]
            ]
            continue
        user = User.objects.create_user(
            person.username, email=person.email, password=None, first_name=person.first_name,
            last_name=person.last_name, is_staff=person.staff, is_active=person.active,
        )
        user.groups.set([groups[role] for role in person.roles if role in groups])
        report.roles_missing += [(person.username, role) for role in person.roles if role not in groups]
        report.people_created.append(person.username)


def restore_tags(entries, report):
    """Create the tags of `entries` (w3c_reader.TagEntry, parents first) that are not here."""
    here = {tag.slug: tag for tag in Tag.objects.filter(
        slug__in=[entry.slug for entry in entries]).select_related("parent")}
    parents = set()
    for entry in entries:
        if entry.parent is not None and entry.parent not in here:
            parents.add(entry.parent)
    here |= {tag.slug: tag for tag in Tag.objects.filter(slug__in=parents - set(here))}
    for entry in entries:
        tag = here.get(entry.slug)
        wanted = {"name": entry.name, "colour": entry.colour, "description": entry.description,
                  "parent": entry.parent}
        if tag is not None:
            now = {"name": tag.name, "colour": tag.colour, "description": tag.description,
                   "parent": tag.parent.slug if tag.parent_id else None}
            report.tag_differences += [(entry.slug, what, now[what], wanted[what]) for what in wanted
                                       if now[what] != wanted[what]]
            continue
        parent = here.get(entry.parent) if entry.parent is not None else None
        if entry.parent is not None and parent is None:
            raise W3CImportError(f"glossa:tags {entry.slug}: its parent {entry.parent} is neither in the file nor here")
        if parent is not None and parent.parent_id is not None:
            raise W3CImportError(f"glossa:tags {entry.slug}: its parent {entry.parent} has a parent (one level only)")
        if Tag.objects.filter(name=entry.name).exists():
            raise W3CImportError(
                f"glossa:tags {entry.slug}: a tag named {entry.name!r} is here under another slug; rename one first"
            )
        here[entry.slug] = Tag.objects.create(
            slug=entry.slug, name=entry.name, colour=entry.colour, description=entry.description,
            parent=parent,
        )
        report.tags_created.append(entry.slug)
