from pingan.core.models import Centre

from .current import centres_of, current_centre


def centre(request):
    """The current centre and the user's centres for the header, looked up only when a
    template shows them. The header never creates the installation's first centre: a
    write in the middle of rendering would land in the page being drawn."""

    def shown():
        return current_centre(request) if Centre.objects.exists() else None

    return {
        "current_centre": shown,
        "my_centres": lambda: centres_of(getattr(request, "user", None)),
    }
