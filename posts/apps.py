from django.apps import AppConfig


class PostsConfig(AppConfig):
    name = "posts"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from posts import signals  # noqa: F401 - connects the receivers
        from posts.roles import ensure_roles

        # After every app's permissions exist (they are created on post_migrate too).
        post_migrate.connect(ensure_roles, sender=self, dispatch_uid="posts-roles")
