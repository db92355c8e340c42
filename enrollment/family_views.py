from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def family_home(request):
    return HttpResponse("Family home")


@login_required
def family_credits(request):
    return HttpResponse("Credits")
