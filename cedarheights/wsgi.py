import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cedarheights.settings.production")

application = get_wsgi_application()

# What loading Django made (modules, models, settings) lives as long as the process: frozen, it is left out
# of the collector's full passes, which otherwise walk it all every so often (a 50-100 ms pause mid-request).
gc.freeze()
