"""The WSGI application, under the production settings unless DJANGO_SETTINGS_MODULE says
otherwise: without its keys and secret a production server refuses to start (the settings
raise ImproperlyConfigured) instead of running as a demo. Files it creates are readable by
their owner only."""

import os

from django.core.wsgi import get_wsgi_application

os.umask(os.umask(0o077) | 0o077)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pingan.settings.production")
application = get_wsgi_application()
