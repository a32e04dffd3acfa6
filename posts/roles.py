"""The two admin roles, kept in step with the models after every migrate.

Authors write and edit their own posts (PostAdmin limits them to posts whose
byline has them); editors may edit, publish and delete every post and manage
tags, series and authors.
"""

from django.contrib.auth.models import Group, Permission

AUTHOR_PERMS = [
    "posts.add_post", "posts.change_post", "posts.view_post", "posts.delete_post",
    "posts.add_authorship", "posts.change_authorship", "posts.view_authorship",
    "posts.delete_authorship", "posts.add_posttag", "posts.change_posttag",
    "posts.view_posttag", "posts.delete_posttag", "posts.view_tag", "posts.add_tag",
    "posts.view_series", "accounts.view_authorprofile",
]  # fmt: skip
EDITOR_EXTRA = [
    "posts.edit_any_post", "posts.change_tag", "posts.delete_tag", "posts.add_series",
    "posts.change_series", "posts.delete_series", "accounts.add_authorprofile",
    "accounts.change_authorprofile", "posts.view_slughistory",
]  # fmt: skip
ROLES = {"Authors": AUTHOR_PERMS, "Editors": AUTHOR_PERMS + EDITOR_EXTRA}


def _permissions(names: list[str]) -> list[Permission]:
    wanted = {tuple(n.split(".", 1)) for n in names}
    perms = Permission.objects.filter(
        content_type__app_label__in={app for app, _ in wanted}
    ).select_related("content_type")
    return [p for p in perms if (p.content_type.app_label, p.codename) in wanted]


def ensure_roles(**kwargs) -> None:
    for name, perms in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(_permissions(perms))
